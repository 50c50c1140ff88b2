"""Uneven crops: the off-centre box that lines a cut copy up with what is stored."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from testament.fingerprint.borders import central
from testament.fingerprint.frames import thumbnail
from testament.fingerprint.index import HashIndex
from testament.fingerprint.pdq import hash_luma
from testament.fingerprint.reframe import (
    Reframing,
    SpreadSample,
    best_shift,
    shifted_box,
    shifted_hashes,
    spread,
)

W, H = 640, 360


def scene(seed: int) -> np.ndarray:
    """A greyscale picture of smooth random shading, detailed enough to mind a cut."""
    rng = np.random.default_rng(seed)
    small = Image.fromarray(rng.integers(0, 256, size=(9, 16), dtype=np.uint8))
    return np.asarray(small.resize((W, H), Image.Resampling.BICUBIC))


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
        # The stored centre's margin (5.3%) cut from two sides only, so that one box
        # lines up exactly (on footage, a 10% cut lines up within about 5%).
        ((slice(19, H), slice(34, W)), (-1, -1)),  # off the top and the left
        ((slice(0, H - 19), slice(34, W)), (-1, 1)),  # off the bottom and the left
        ((slice(19, H), slice(0, W - 34)), (1, -1)),  # off the top and the right
    ],
)
def test_a_copy_cut_from_two_sides_is_lined_up(cut: tuple[slice, slice], direction) -> None:
    index = stored_index(FRAMES)
    copy = [np.ascontiguousarray(frame[cut]) for frame in FRAMES]
    own = np.full(len(copy), 1 << 10)  # the copy's own hashes found nothing
    shift = best_shift(reframing(copy), own, index, 72)
    assert shift is not None and shift[:2] == direction
    frames, hashes = shifted_hashes(reframing(copy), shift)
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


def test_shifted_boxes_keep_one_end_of_each_side() -> None:
    picture = np.zeros((100, 200), dtype=np.uint8)
    assert shifted_box(picture, (-1, 1, 0.1)) == (0, 10, 180, 100)
    assert shifted_box(picture, (1, 0, 0.06)) == (12, 3, 200, 97)


def test_spread_sample_stays_small_and_spans_the_stream() -> None:
    sample = SpreadSample(limit=8)
    for number in range(1000):
        sample.offer(number, np.zeros((2, 2), dtype=np.uint8))
        assert len(sample.items) < 16
    kept = [number for number, _ in sample.result()]
    assert len(kept) == 8 and kept[0] == 0 and kept[-1] > 800
    assert spread(3, 8) == [0, 1, 2] and spread(0) == []
