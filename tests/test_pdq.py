"""Many pictures hashed at once give each picture's own PDQ hash and quality, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from testament.fingerprint.pdq import hash_luma, hash_luma_mirrored, hash_many


def _pictures() -> list[np.ndarray]:
    """Noise, shading, flat and half-flat pictures, drawings, of many sizes, some views."""
    rng = np.random.default_rng(12)
    pictures: list[np.ndarray] = []
    for number in range(120):
        height, width = (64, 64) if number % 4 == 0 else tuple(rng.integers(40, 260, 2))
        kind = number % 5
        if kind == 0:
            picture = rng.integers(0, 256, (height, width), dtype=np.uint8)
        elif kind == 1:
            steps = rng.integers(-3, 4, (height, width))
            picture = np.cumsum(steps, axis=number % 2).clip(0, 255).astype(np.uint8)
        elif kind == 2:
            picture = np.full((height, width), rng.integers(0, 256), dtype=np.uint8)
            picture[:, : width // 2] = rng.integers(0, 256)
        elif kind == 3:
            image = Image.new("L", (int(width), int(height)), int(rng.integers(0, 256)))
            draw = ImageDraw.Draw(image)
            for _ in range(6):
                box = sorted(rng.integers(0, width, 2)), sorted(rng.integers(0, height, 2))
                draw.ellipse(
                    (box[0][0], box[1][0], box[0][1], box[1][1]), fill=int(rng.integers(256))
                )
            picture = np.asarray(image)
        else:
            small = rng.integers(0, 256, (6, 8), dtype=np.uint8)
            picture = np.asarray(
                Image.fromarray(small).resize((300, 200), Image.Resampling.BICUBIC)
            )
            picture = picture[10 : 10 + height, 20 : 20 + width]  # a view, as crops are
        pictures.append(picture)
    return pictures


def test_many_pictures_hash_as_each_alone() -> None:
    pictures = _pictures()
    plain, mirrored, quality = hash_many(pictures)
    for number, picture in enumerate(pictures):
        one, one_mirrored, one_quality = hash_luma_mirrored(picture)
        assert np.array_equal(plain[number], one), number
        assert np.array_equal(plain[number], hash_luma(picture)[0]), number
        assert np.array_equal(mirrored[number], one_mirrored), number
        assert quality[number] == one_quality, number


@pytest.mark.parametrize("count", [0, 1])
def test_few_pictures(count: int) -> None:
    pictures = _pictures()[:count]
    plain, mirrored, quality = hash_many(pictures)
    assert plain.shape == mirrored.shape == (count, 32)
    assert len(quality) == count
