"""Re-checking a candidate against the asset's stored fingerprint: that footage, or that place?

The index finds frames that look alike. Two takes filmed by one fixed camera in one room
look alike at every moment: the same walls, light and people, only what they do differs.
A copy of the footage agrees with the asset at its own moments and less well elsewhere;
another take agrees about as well everywhere. So a candidate is re-checked on the asset's
stored hashes: at moments that are distinctive in the asset itself (they recur nowhere
else in it), does the query agree there clearly better than anywhere else?
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from testament.fingerprint.index import LOW_DISTANCE, MIN_QUALITY, quality_floor
from testament.fingerprint.model import Fingerprint
from testament.fingerprint.pdq import hamming
from testament.fingerprint.query import Query

AWAY = 1.0  # s: moments this far apart count as other moments of the asset
NEAR = 0.3  # s: a stored frame this close to a moment stands for it
MARGIN = 8  # bits by which a copy agrees better at its own moment than elsewhere
# A moment of the asset tells takes apart when it stands this far from all its others: a
# copy's own noise (4-10 bits) must not blur it into a moment that recurs (a loop, a
# compilation that repeats its scenes).
DISTINCT = 2 * MARGIN
CHUNK = 256  # query rows compared at a time (bounded memory)


def usable(stored: Fingerprint) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Times, hashes and centre hashes of the stored frames that are indexed."""
    keep = stored.quality >= quality_floor(stored.quality)
    inner = stored.inner[keep] if stored.inner is not None else stored.hashes[keep]
    return stored.times[keep], stored.hashes[keep], inner


def distances(rows: np.ndarray, hashes: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """[rows, frames]: each query row's distance to each stored frame (its closer hash)."""
    out = np.empty((len(rows), len(hashes)), dtype=np.int32)
    for start in range(0, len(rows), CHUNK):
        part = rows[start : start + CHUNK]
        out[start : start + CHUNK] = np.minimum(hamming(part, hashes), hamming(part, inner))
    return out


def elsewhere(values: np.ndarray, times: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Per moment `at`, the smallest of `values` [moments, frames] at frames AWAY from it."""
    far = np.abs(times[None, :] - at[:, None]) >= AWAY
    return np.where(far, values, np.iinfo(np.int32).max).min(axis=1)


def nearest_frame(times: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Index of the stored frame (of sorted `times`) nearest to each of the moments `at`."""
    after = np.clip(np.searchsorted(times, at), 0, len(times) - 1)
    before = np.maximum(after - 1, 0)
    return np.where(np.abs(times[before] - at) <= np.abs(times[after] - at), before, after)


def distinctive(
    times: np.ndarray, hashes: np.ndarray, inner: np.ndarray, frames: np.ndarray
) -> np.ndarray:
    """How far each of the stored `frames` is from every other moment of the asset (bits)."""
    own = np.minimum(hamming(hashes[frames], hashes), hamming(hashes[frames], inner))
    return elsewhere(own, times, times[frames])


LOOSE_FLAT = 48  # bits: the most a low-quality hash may be off, where the asset's moments differ
# ... and the least, where they hardly do: other places lie 82-106 bits from such footage
# (night, sky, smoke, asphalt of the tuning half), its own copies 22-56 at their nearest
FLAT_FLOOR = 40
FLAT_SAMPLE = 128  # stored frames an asset's distinctiveness is measured on


def apartness(stored: Fingerprint) -> np.ndarray:
    """How far each of up to FLAT_SAMPLE spread indexed moments of the asset lies from all
    its moments a second or more away (bits; empty when none are that far apart)."""
    times, hashes, inner = usable(stored)
    if len(times) < 2:
        return np.zeros(0, dtype=np.int32)
    picked = np.unique(np.linspace(0, len(times) - 1, min(len(times), FLAT_SAMPLE)).astype(int))
    apart = distinctive(times[picked], hashes[picked], inner[picked], np.arange(len(picked)))
    return apart[apart < np.iinfo(np.int32).max]


def flat_limit(stored: Fingerprint) -> int:
    """How close a hash below MIN_QUALITY must come to this asset's frames to count.

    Low-quality hashes move further under re-encoding (a car park at CRF 42: 32-40 bits
    from its frame), yet where the asset's own moments lie far apart (asphalt with a car
    crossing: 90+ bits from every moment a second away) a hit within half that distance is
    still nearer its own moment than any other. Where they lie close (a night room whose
    figure hardly shows: 8-30 bits; clouds drifting over a sky: 22-29) the limit is
    FLAT_FLOOR: a re-encode at CRF 40-45, a banner or a player moves a soft sky's hashes
    38-76 bits at their moment, while other places stay 82 bits and more away. (It was
    LOW_DISTANCE, 32: the tuning half's re-encoded, bannered and played skies came back
    with nothing; at 44 re-encoded moments began to blur into `same_scene`.)
    """
    apart = apartness(stored)
    if len(apart) == 0:
        return LOW_DISTANCE
    return int(np.clip(np.percentile(apart, 10) // 2, FLAT_FLOOR, LOOSE_FLAT))


SUPPORTING = 0.5  # share of telling frames on which a copy agrees clearly best at its offset
SAMPLED = 48  # query frames a video candidate is re-checked on (spread over its match)
TIE = 8  # bits: moments of the asset a still matches this nearly as well match it too


def _frame_distances(
    query: Query, frames: np.ndarray, hashes: np.ndarray, inner: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """[frames, stored]: each query frame's distance (closest variant) to each stored frame,
    over the query's `rows` (bool) only."""
    rows = np.flatnonzero(np.isin(query.frame, frames) & rows)
    out = np.full((len(frames), len(hashes)), np.iinfo(np.int32).max, dtype=np.int32)
    np.minimum.at(
        out,
        np.searchsorted(frames, query.frame[rows]),
        distances(query.hashes[rows], hashes, inner),
    )
    return out


def _unchanging(stored: Fingerprint) -> bool:
    """Whether most of the asset's moments are within DISTINCT of others a second away.

    A talking head that hardly moves (its moments 13 bits apart in the median) has a few
    that pass DISTINCT by its own noise; a re-encoded copy's noise (4-18 bits) is as large,
    and such moments told its copies from it no better than other takes.
    """
    apart = apartness(stored)
    return len(apart) > 0 and float(np.median(apart)) < DISTINCT


def hashes_tell(
    query: Query, matched: np.ndarray, offset: float, stored: Fingerprint
) -> bool | None:
    """Whether a video that lines up with the asset at `offset` is its footage (True) or
    only its place (False), as far as the hashes can tell; None when they cannot.

    `matched` are the query frames that agree at the offset (a bool per query frame). At
    those of them that meet a distinctive moment of the asset (one at least DISTINCT from
    all its other moments), a copy agrees clearly better than it does anywhere else in the
    asset: by half a MARGIN in the median, and by a whole one on SUPPORTING of them;
    another take of the same place agrees about as well everywhere, but for the odd
    moment that happens to look alike. An asset with no distinctive moment (one
    unchanging view, or one whose moments hardly differ), with a single usable moment,
    or met only by flat query frames gives the hashes nothing to tell the two apart by.
    """
    times, hashes, inner = usable(stored)
    frames = np.flatnonzero(matched)
    rows = np.ones(len(query.frame), dtype=bool)
    if query.low is not None and quality_floor(stored.quality) >= MIN_QUALITY:
        # A detailed asset is told by the query's sharp rows: a flat picture (a dark
        # transition) lies about as close to many of its moments.
        rows = ~query.low
        frames = frames[np.isin(frames, query.frame[rows])]
    frames = frames[np.linspace(0, len(frames) - 1, min(len(frames), SAMPLED)).astype(int)]
    if len(times) < 2 or len(frames) == 0:
        return None
    frames = np.unique(frames)
    at = query.frame_times[frames] + offset
    table = _frame_distances(query, frames, hashes, inner, rows)
    near = np.abs(times[None, :] - at[:, None]) <= NEAR
    aligned = np.where(near, table, np.iinfo(np.int32).max).min(axis=1)
    other = elsewhere(table, times, at)
    moment = nearest_frame(times, at)
    telling = distinctive(times, hashes, inner, moment) >= DISTINCT
    unknown = np.iinfo(np.int32).max
    telling &= (aligned < unknown) & (other < unknown)
    detailed = quality_floor(stored.quality) >= MIN_QUALITY
    if telling.sum() < 3 or (detailed and _unchanging(stored)):
        return None
    margin = float(np.median(other[telling]) - np.median(aligned[telling]))
    supporting = float(np.mean(aligned[telling] + MARGIN <= other[telling]))
    return margin >= MARGIN / 2 and supporting >= SUPPORTING


@dataclass(frozen=True)
class Moments:
    """Where in a video asset a still matches: every interval, best first."""

    best: int  # bits to the closest stored frame
    intervals: tuple[tuple[float, float], ...]
    at: float | None  # the still's second, when one interval is clearly the one
    recurring: bool  # several moments match alike: a view that recurs, or the place only


def still_moments(
    own: np.ndarray,
    found_times: np.ndarray,
    found_distance: np.ndarray,
    stored: Fingerprint,
    low_limit: int = LOW_DISTANCE,
) -> Moments | None:
    """Every moment of `stored` that a still matches about as well as its best one.

    `own` are the still's hashes; `found_times`/`found_distance` the index's hits on this
    asset (they include reshaped pictures of the still, not among its own hashes). Frames
    within TIE bits of the best make up the intervals, each frame standing for up to a
    quarter second either side. Only a single interval gives the still a second of its own.
    The asset's low-quality frames count only within `low_limit`.
    """
    times, hashes, inner = usable(stored)
    if len(times) == 0:
        return None
    closest = distances(own, hashes, inner).min(axis=0)
    np.minimum.at(closest, nearest_frame(times, found_times), found_distance.astype(np.int32))
    flat = stored.quality[stored.quality >= quality_floor(stored.quality)] < MIN_QUALITY
    closest[flat & (closest > low_limit)] = np.iinfo(np.int32).max
    best = int(closest.min())
    if best == np.iinfo(np.int32).max:
        return None
    near = np.flatnonzero(closest <= best + TIE)
    groups = np.split(near, np.flatnonzero(np.diff(times[near]) > AWAY) + 1)
    half = np.minimum(np.diff(times, prepend=times[0] - 0.5, append=times[-1] + 0.5) / 2, 0.25)
    spans = []
    for group in groups:
        start = max(0.0, float(times[group[0]] - half[group[0]]))
        end = float(times[group[-1]] + half[group[-1] + 1])
        if stored.duration is not None:
            end = min(end, float(stored.duration))
        spans.append((int(closest[group].min()), (start, end), group))
    spans.sort(key=lambda item: item[0])
    at = None
    if len(spans) == 1:
        group = spans[0][2]
        at = float(np.median(times[group][closest[group] == best]))
    intervals = tuple(span for _, span, _ in spans)
    return Moments(best, intervals, at, len(spans) > 1)
