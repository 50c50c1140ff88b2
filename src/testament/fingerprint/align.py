"""Temporal alignment: many frame matches agreeing on one time offset make a video match.

Each frame hit votes for an offset (asset time minus query time). Lookalike frames (the
same room, the same flag, a black frame) vote for scattered offsets; a real copy's frames
pile up on one. The winning offset is refined to the weighted median of the votes near it,
and the query frames that agree with it are grouped into segments.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from testament.fingerprint.model import Segment

BIN = 0.25  # seconds per offset vote bin
TOLERANCE = 0.75  # a hit agrees with an offset when within this many seconds of it
MAX_HOLE = 2.0  # unmatched seconds tolerated inside one segment
SHARP = 0.375  # seconds around the sharp peak whose votes settle the offset
STEP = 0.5  # a kept frame stands for at most this long when counting holes and agreement


@dataclass(frozen=True)
class Alignment:
    """The best offset for one asset, and how each query frame fares at it."""

    offset: float
    distance: np.ndarray  # int32 [frames] best agreeing distance per query frame (BITS if none)


def best_offset(
    frame_times: np.ndarray,
    frame: np.ndarray,
    asset_time: np.ndarray,
    distance: np.ndarray,
    max_distance: int,
    no_match: int,
) -> Alignment:
    """Vote over offsets of one asset's hits and return the strongest agreement."""
    offsets = asset_time - frame_times[frame]
    weight = (max_distance + 1 - distance) / (max_distance + 1)
    bins = np.round(offsets / BIN).astype(np.int64)
    # One vote per query frame and bin: a static shot must not outvote a moving one.
    order = np.lexsort((-weight, frame, bins))
    bins_s, frame_s, weight_s = bins[order], frame[order], weight[order]
    unique = np.ones(len(order), dtype=bool)
    unique[1:] = (bins_s[1:] != bins_s[:-1]) | (frame_s[1:] != frame_s[:-1])
    votes_bins, votes = np.unique(bins_s[unique], return_inverse=True)
    totals = np.bincount(votes, weights=weight_s[unique])
    # The broad peak finds the agreement; the sharp peak inside it finds its offset, where
    # the broad one would settle between a copy's own offset and its lookalike neighbours.
    broad = _peak(votes_bins, totals, round(TOLERANCE / BIN), votes_bins)
    sharp = _peak(votes_bins, totals, 1, votes_bins[np.abs(votes_bins - broad) <= TOLERANCE / BIN])
    near = np.abs(offsets - sharp * BIN) <= SHARP
    offset = _weighted_median(offsets[near], weight[near])
    agree = np.abs(offsets - offset) <= TOLERANCE
    best = np.full(len(frame_times), no_match, dtype=np.int32)
    np.minimum.at(best, frame[agree], distance[agree])
    return Alignment(offset=float(offset), distance=best)


def _peak(bins: np.ndarray, totals: np.ndarray, reach: int, among: np.ndarray) -> int:
    """The bin among `among` with the most votes within `reach` bins of it."""
    smoothed = [totals[np.abs(bins - b) <= reach].sum() for b in among]
    return int(among[int(np.argmax(smoothed))])


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    order = np.argsort(values)
    cumulative = np.cumsum(weights[order])
    return float(values[order][np.searchsorted(cumulative, cumulative[-1] / 2)])


def frame_spans(frame_times: np.ndarray, duration: float) -> np.ndarray:
    """How long each kept frame stands for: until the next kept frame (or the end)."""
    ends = np.append(frame_times[1:], max(duration, frame_times[-1]))
    return np.maximum(ends - frame_times, 0.0)


def segments(
    frame_times: np.ndarray,
    matched: np.ndarray,
    duration: float,
    offset: float,
    checkable: np.ndarray | None = None,
) -> tuple[Segment, ...]:
    """Runs of matched query frames, bridging holes up to MAX_HOLE seconds.

    Only checkable frames that fail to match count as a hole: a stretch where the asset
    has no usable hash (flat, dark, blurred) neither matches nor breaks a segment.
    """
    spans = frame_spans(frame_times, duration)
    if checkable is None:
        checkable = np.ones(len(frame_times), dtype=bool)
    found: list[Segment] = []
    start: float | None = None
    end = 0.0
    hole = 0.0
    for t, span, ok, check in zip(frame_times, spans, matched, checkable, strict=True):
        if not ok:
            if check and start is not None:
                hole += min(span, STEP)
                if hole > MAX_HOLE:
                    found.append(Segment(start, end, start + offset, end + offset))
                    start = None
            continue
        if start is None:
            start = float(t)
        hole = 0.0
        end = float(t + span)
    if start is not None:
        found.append(Segment(start, end, start + offset, end + offset))
    return tuple(found)
