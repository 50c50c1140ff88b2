"""Temporal alignment: the offset that many frame hits agree on."""

from __future__ import annotations

import numpy as np

from testament.fingerprint.align import best_offset

LIMIT, NONE = 72, 256


def test_offset_is_where_the_copy_agrees_not_amid_its_lookalikes() -> None:
    """A weak copy (an uneven crop, say) agrees at one offset; lookalike frames of moving
    texture spread over the next second and a half, and outweigh it taken together."""
    frames = np.arange(41)
    times = frames * 0.2
    lookalike = [0.25 + 0.25 * (frames % 6), 0.25 + 0.25 * ((frames + 3) % 6)]
    offsets = np.concatenate([np.zeros(41), *lookalike])
    frame = np.tile(frames, 3)
    distance = np.full(len(frame), 60)
    alignment = best_offset(times, frame, times[frame] + offsets, distance, LIMIT, NONE)
    assert abs(alignment.offset) < 0.1
    assert (alignment.distance == 60).all()


def test_offset_of_a_clean_copy_is_exact() -> None:
    times = np.arange(50) * 0.2
    frame = np.arange(50)
    distance = np.full(50, 8)
    alignment = best_offset(times, frame, times + 3.4, distance, LIMIT, NONE)
    assert abs(alignment.offset - 3.4) < 1e-6
