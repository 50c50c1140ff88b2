"""Uneven crops: the off-centre box that lines a cut copy up with what is stored."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from testament.fingerprint.borders import central
from testament.fingerprint.frames import THUMB
from testament.fingerprint.index import HashIndex
from testament.fingerprint.pdq import hash_luma
from testament.fingerprint.reframe import (
    Reframing,
    SpreadSample,
    best_shift,
    shifted_hashes,
    shifted_picture,
    spread,
)

W, H = 640, 360


def scene(seed: int) -> np.ndarray:
    """A greyscale picture of smooth random shading, detailed enough to mind a cut."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, size=(9, 16), dtype=np.uint8))
    return np.asarray(small.resize((W, H), Image.Resampling.BICUBIC))


def thumbnail(picture: np.ndarray) -> np.ndarray:
    """A kept frame's thumbnail, as the sampler makes it from a decoded frame."""
    return np.asarray(Image.fromarray(picture).resize((THUMB, THUMB), Image.Resampling.BOX))


def stored_index(pictures: list[np.ndarray]) -> HashIndex:
    """What ingest indexes for these frames: each thumbnail's hash and its centre's."""
    thumbs = [thumbnail(p) for p in pictures]
    hashes = [hash_luma(t)[0] for t in thumbs] + [hash_luma(central(t))[0] for t in thumbs]
    times = np.tile(np.arange(len(thumbs), dtype=np.float32), 2)
    return HashIndex.from_arrays(np.ones(len(hashes), dtype=np.int64), times, np.stack(hashes))


def reframing(pictures: list[np.ndarray]) -> Reframing:
    samples = [(i, thumbnail(p)) for i, p in enumerate(pictures)]
    return Reframing(samples, lambda: iter(samples))


FRAMES = [scene(seed) for seed in range(6)]


@pytest.mark.parametrize(
    ("cut", "direction"),
    [
        ((slice(36, H), slice(64, W)), (-1, -1)),  # 10% off the top and the left
        ((slice(0, H - 36), slice(64, W)), (-1, 1)),  # off the bottom and the left
        ((slice(36, H), slice(0, W - 64)), (1, -1)),  # off the top and the right
    ],
)
def test_a_copy_cut_from_two_sides_is_lined_up(cut: tuple[slice, slice], direction) -> None:
    index = stored_index(FRAMES)
    copy = [np.ascontiguousarray(frame[cut]) for frame in FRAMES]
    own = np.full(len(copy), 1 << 10)  # the copy's own hashes found nothing
    shift = best_shift(reframing(copy), own, index, 72)
    assert shift is not None and shift[:2] == direction
    frames, hashes, _ = shifted_hashes(reframing(copy), shift)
    found = index.search(hashes, 1, 72)
    assert sorted(frames[found.query].tolist()) == list(range(len(copy)))
    assert np.array_equal(found.time, frames[found.query].astype(np.float32))


def test_an_uncut_copy_needs_no_box() -> None:
    index = stored_index(FRAMES)
    own = np.zeros(len(FRAMES))  # its own hashes already matched exactly
    assert best_shift(reframing(FRAMES), own, index, 72) is None


def test_unrelated_footage_gets_no_box() -> None:
    index = stored_index(FRAMES)
    others = [scene(seed) for seed in range(100, 106)]
    assert best_shift(reframing(others), np.full(6, 1 << 10), index, 72) is None


def test_the_stored_centre_is_rebuilt_with_reflected_edges() -> None:
    original = np.tile(np.arange(200, dtype=np.uint8), (100, 1))
    copy = original[:, 20:]  # 10% cut from the left
    centre = shifted_picture(copy, (-1, 0, "centre"))
    margin = round(200 * 0.053)  # where the stored centre of the original starts
    assert centre.shape[1] == 200 - 2 * margin
    cut_away = 20 - margin  # columns of the centre that went with the cut
    assert np.array_equal(centre[0, cut_away:], original[0, 20 : 200 - margin])
    assert np.array_equal(centre[0, :cut_away], original[0, 20 + cut_away : 20 : -1])


def test_the_cut_is_taken_from_the_side_named() -> None:
    picture = np.zeros((100, 200), dtype=np.uint8)
    picture[:, :20] = 255
    assert not shifted_picture(picture, (-1, 0, "cut")).any()
    assert shifted_picture(picture, (1, 1, "cut")).shape == (90, 180)


def test_spread_sample_stays_small_and_spans_the_stream() -> None:
    sample = SpreadSample(limit=8)
    for number in range(1000):
        sample.offer(number, np.zeros((2, 2), dtype=np.uint8))
        assert len(sample.items) < 16
    kept = [number for number, _ in sample.result()]
    assert len(kept) == 8 and kept[0] == 0 and kept[-1] > 800
    assert spread(3, 8) == [0, 1, 2] and spread(0) == []
