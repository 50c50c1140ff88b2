"""Matching a query (file or fingerprint) against the index: which assets show its footage.

Stills are decided by their best frame hit, since one picture has nothing else to agree
with. Videos are decided by alignment: hits per asset vote for a time offset, and the
score is how many of the query frames that should overlap the asset (given that offset)
do match there, and how closely. A handful of lookalike frames cannot reach the score a
copy reaches, however close each one is. Every candidate is then re-checked on the asset's
stored fingerprint (recheck.py): another take of the same place is `same_scene`, and a
still gets every interval of the asset it fits. Footage the hashes do not find at all is
`same_scene` too where it shows a fixed camera's place (place.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np

from testament.fingerprint.align import STEP, TOLERANCE, best_offset, frame_spans, segments
from testament.fingerprint.index import (
    BITS,
    LOW_DISTANCE,
    MIN_QUALITY,
    HashIndex,
    Hits,
    quality_floor,
)
from testament.fingerprint.local import FrameSource
from testament.fingerprint.localcheck import (
    place_only,
    still_is_that_moment,
    video_is_that_footage,
)
from testament.fingerprint.model import Fingerprint, FootageMatch, Segment
from testament.fingerprint.place import SAME_PLACE, likeness
from testament.fingerprint.query import Query, analyze_file, query_from_fingerprint
from testament.fingerprint.recheck import LOOSE_FLAT, flat_limit, hashes_tell, still_moments
from testament.fingerprint.reframe import (
    CLOSE,
    SAMPLES,
    best_shift,
    lines_up_better,
    nearest,
    shifted_hashes,
    spread,
    still_shapes,
)

FRAME_DISTANCE = 72  # a video frame hit counts up to this many bits (temporal agreement decides)
STILL_DISTANCE = 56  # a still matches a frame up to this many bits on its own
RESHAPED_DISTANCE = 36  # ... and a reshaped picture of it (one of 48 tries) up to this many
LONE_FLAT = 28  # ... this many where it is flat and the only one to meet its asset
STRONG = 32  # hits this close count fully; strength falls to 0 at the limit
VIDEO_NEIGHBOURS = 32
STILL_NEIGHBOURS = 64
MIN_FRAMES = 4  # agreeing frames needed before a video match is trusted fully
MIN_SCORE = 0.3
TIGHT = 24  # median distance (re-encode level) that lets a brief partial agreement count
TIGHT_STILL = 24  # a still matching several moments must match one this closely
BRIEF = 3.0  # seconds: a partial agreement shorter than this must be TIGHT
COVERS = 0.9  # coverage that counts as the whole of a video
USABLE_SHARE = 0.5  # of an asset's usable time that counts as more than brief agreement
NEAR_STORED = 0.3  # s: a query frame is checkable when an indexed asset frame is this close
MIRROR_SAMPLE = 2.0  # s: mirrored hashes are tried first on a frame this often
SAMPLED_GAP = 1.1 * STEP  # indexed frames further apart have unusable frames between them
PLACE_LINKS = 10  # other footage of the query's place reported, the likest first


def _strength(distance: np.ndarray, limit: int) -> np.ndarray:
    return np.clip((limit - distance) / (limit - STRONG), 0.0, 1.0)


def _single_score(best: int) -> float:
    """The score of a match that rests on one closest frame (a still, an image asset)."""
    return float(_strength(np.array([best]), STILL_DISTANCE + 8)[0])


def _still_match(
    query: Query, hits: Hits, asset_id: int, stored: Fingerprint, low_limit: int
) -> FootageMatch | None:
    if stored.kind != "video":
        best = int(hits.distance.min())
        if stored.quality.max(initial=0) < MIN_QUALITY and best > LOW_DISTANCE:
            return None  # a flat picture matches only closely
        score = _single_score(best)
        return FootageMatch(asset_id, "same_footage", score, 1.0, 1.0, None, None, ())
    own = query.hashes if query.low is None else query.hashes[~query.low]
    times = hits.time.astype(np.float64)
    moments = still_moments(own, times, hits.distance, stored, low_limit)
    if moments is None or moments.best > _still_limit(query, low_limit):
        return None
    score = _single_score(moments.best)
    if moments.recurring and moments.best > TIGHT_STILL:
        # Several moments alike, none closely: the place and the camera, not this footage,
        # unless the pixels of one of those moments show it (`still_is_that_moment`).
        return FootageMatch(
            asset_id, "same_scene", score, 0.0, 0.0, None, None, (), moments.intervals
        )
    segments = tuple(Segment(0.0, 0.0, start, end) for start, end in moments.intervals)
    return FootageMatch(
        asset_id, "still_from", score, 1.0, 0.0, None, moments.at, segments, moments.intervals
    )


def _still_limit(query: Query, low_limit: int = LOOSE_FLAT) -> int:
    """How close a still must come: closer for one whose hashes are all of low quality
    (`low_limit`: the asset's, once it is known; before, the loosest any asset allows)."""
    return STILL_DISTANCE if query.floor >= MIN_QUALITY else low_limit


def _video_in_image(query: Query, hits: Hits, asset_id: int) -> FootageMatch | None:
    best = int(hits.distance.min())
    if best > STILL_DISTANCE:
        return None
    at = float(query.frame_times[query.frame[hits.query[hits.distance == best][0]]])
    duration = query.duration or 0.0
    spans = frame_spans(query.frame_times, duration)
    share = float(spans[np.searchsorted(query.frame_times, at)] / duration) if duration else 0.0
    score = _single_score(best)
    segment = (Segment(at, at, 0.0, 0.0),)
    return FootageMatch(asset_id, "contains", score, share, 1.0, None, None, segment)


def _relation(query_coverage: float, asset_coverage: float) -> str:
    if query_coverage >= COVERS and asset_coverage >= COVERS:
        return "same_footage"
    if query_coverage >= COVERS:
        return "clip_of"
    if asset_coverage >= COVERS:
        return "contains"
    return "overlaps"


def _matchable(shifted: np.ndarray, stored: np.ndarray) -> np.ndarray:
    """Which shifted query times lie near an indexed frame of the asset (not flat there)."""
    if len(stored) == 0:
        return np.zeros(len(shifted), dtype=bool)
    at = np.clip(np.searchsorted(stored, shifted), 1, max(1, len(stored) - 1))
    gap = np.minimum(
        np.abs(stored[at - 1] - shifted), np.abs(stored[np.minimum(at, len(stored) - 1)] - shifted)
    )
    return gap <= NEAR_STORED


def _usable_span(stored: np.ndarray) -> float:
    """Seconds of an asset that its indexed frames stand for.

    A frame stands until the next indexed one, or for the asset's usual gap between indexed
    frames when the next is further than the sampler ever leaves (unusable frames lie
    between: the usable stretch ends there).
    """
    times = np.unique(stored)
    if len(times) == 0:
        return 0.0
    gaps = np.diff(times, append=times[-1] + STEP)
    sampled = gaps <= SAMPLED_GAP
    usual = float(np.median(gaps[sampled])) if sampled.any() else STEP
    return float(np.where(sampled, gaps, min(usual, STEP)).sum())


def _video_match(
    query: Query, hits: Hits, asset_id: int, duration: float, stored: np.ndarray
) -> tuple[FootageMatch, np.ndarray] | None:
    """The best alignment's match, and which query frames agree at its offset (a bool per
    frame of the query, not only per frame with hashes)."""
    best: FootageMatch | None = None
    agreeing = np.zeros(0, dtype=bool)
    q_duration = query.duration or 0.0
    # Frames without a usable hash (black, flat) neither match nor break a segment.
    usable = np.unique(query.frame)
    times = query.frame_times[usable]
    position = np.searchsorted(usable, query.frame)
    frames = len(times)
    for mirrored in (False, True):
        rows = query.mirrored[hits.query] == mirrored
        if not rows.any():
            continue
        alignment = best_offset(
            times,
            position[hits.query[rows]],
            hits.time[rows].astype(np.float64),
            hits.distance[rows],
            FRAME_DISTANCE,
            BITS,
        )
        offset = alignment.offset
        shifted = times + offset
        expected = (shifted >= -TOLERANCE) & (shifted <= duration + TOLERANCE)
        # Only where the asset has indexed frames can the query be checked: flat stretches
        # of the asset (blur, darkness) are neither evidence for nor against.
        expected &= _matchable(shifted, stored)
        matched = expected & (alignment.distance <= FRAME_DISTANCE)
        count = int(matched.sum())
        if count == 0 or frames == 0:
            continue
        strength = float(_strength(alignment.distance[matched], FRAME_DISTANCE).mean())
        share = count / int(expected.sum())
        score = share * (0.5 + 0.5 * strength) * min(1.0, count / MIN_FRAMES)
        if score < MIN_SCORE or (best is not None and score <= best.score):
            continue
        found = segments(times, matched, q_duration, offset, expected)
        covered = sum(s.query_end - s.query_start for s in found)
        loose = np.median(alignment.distance[matched]) > TIGHT
        partial = covered < COVERS * q_duration
        # Brief means brief for this asset: one that is mostly flat (blur, darkness) can
        # only ever agree for as long as it has usable frames.
        brief = min(BRIEF, USABLE_SHARE * _usable_span(stored))
        if loose and partial and covered < brief:
            continue  # lookalike scenery agrees briefly; a copy with a logo agrees throughout
        in_asset = sum(
            max(0.0, min(s.asset_end, duration) - max(s.asset_start, 0.0)) for s in found
        )
        q_cov = min(1.0, covered / q_duration) if q_duration else 1.0
        a_cov = min(1.0, in_asset / duration) if duration else 1.0
        best = FootageMatch(
            asset_id, _relation(q_cov, a_cov), score, q_cov, a_cov, offset, None, found
        )
        agreeing = np.zeros(len(query.frame_times), dtype=bool)
        agreeing[usable[matched]] = True
    return None if best is None else (best, agreeing)


def _video_decision(
    query: Query,
    hits: Hits,
    asset_id: int,
    stored: Fingerprint,
    index: HashIndex,
    frames: FrameSource | None,
) -> FootageMatch | None:
    """A video query against a video asset: aligned, then told footage from place, on its
    hashes and, where they do not find it the footage and the pixels are at hand, on what
    moved at the moments it lines up with (localcheck.py)."""
    assert stored.duration is not None
    times = index.asset_times(asset_id).astype(np.float64)
    aligned = _video_match(query, hits, asset_id, stored.duration, times)
    if aligned is None:
        return None
    found, agreeing = aligned
    if found.offset is None:
        return found
    verdict = hashes_tell(query, agreeing, found.offset, stored)
    if verdict is not True and frames is not None:
        shown = video_is_that_footage(query, agreeing, found, stored, frames)
        verdict = verdict if shown is None else shown
    if verdict is None:
        # Nothing told the takes apart: the alignment stands, but for flat footage
        # (night, asphalt), whose takes look alike at every moment.
        verdict = quality_floor(stored.quality) >= MIN_QUALITY
    if verdict:
        return found
    return replace(found, relation="same_scene", offset=None, segments=())


def _search_rows(index: HashIndex, query: Query, rows: np.ndarray) -> Hits:
    """Hits of some of a video query's rows, numbered as rows of the whole query."""
    found = index.search(query.hashes[rows], VIDEO_NEIGHBOURS, FRAME_DISTANCE)
    return Hits(rows[found.query].astype(np.int32), found.asset_id, found.time, found.distance)


def _joined(*parts: Hits) -> Hits:
    return Hits(
        *(np.concatenate([getattr(p, name) for p in parts]) for name in Hits.__annotations__)
    )


def _subset(hits: Hits, keep: np.ndarray) -> Hits:
    return Hits(hits.query[keep], hits.asset_id[keep], hits.time[keep], hits.distance[keep])


def _nearest(query: Query, hits: Hits) -> np.ndarray:
    """The closest hit of each query frame (a large number where there is none)."""
    return nearest(query.frame[hits.query], hits.distance, len(query.frame_times))


def _video_hits(query: Query, index: HashIndex) -> Hits:
    """Hits of a video query; its mirrored hashes only if it looks like a mirrored copy.

    Hardly any copy is mirrored, and looking its mirrored hashes up doubles the lookups.
    So they are first looked up for a frame every MIRROR_SAMPLE seconds; the rest follow
    if any of those comes clearly closer than the frame's plain hashes did.
    """
    hits = _search_rows(index, query, np.flatnonzero(~query.mirrored))
    mirrored = np.flatnonzero(query.mirrored)
    if len(mirrored) == 0:
        return hits
    frames = np.unique(query.frame[mirrored])
    count = max(SAMPLES, round((query.duration or 0.0) / MIRROR_SAMPLE))
    sampled = np.isin(query.frame[mirrored], frames[spread(len(frames), count)])
    tried = _search_rows(index, query, mirrored[sampled])
    if not lines_up_better(_nearest(query, tried), _nearest(query, hits), FRAME_DISTANCE).any():
        return hits
    return _joined(hits, tried, _search_rows(index, query, mirrored[~sampled]))


def _still_hits(
    query: Query, index: HashIndex, flat_asset: Callable[[np.ndarray], np.ndarray]
) -> Hits:
    """Hits of an image query; of its reshaped picture too if none of its own came close.

    A cropped screenshot of footage is cut unevenly more often than not, and the picture
    found in a player screenshot often stops short of the controls. The reshaped pictures
    (48 hashes for each of up to three, 10-35 ms) are only looked up when needed, so a
    clean still costs no more than its own dozen hashes. Being many tries, they must come closer
    (RESHAPED_DISTANCE), and they only speak for assets where they come clearly closer
    (by BETTER) than the still's own hashes did: a shifted picture of a panning shot can
    meet the frame of another moment. (Counted only for assets the own hashes had not
    found at all, a car park's player screenshot whose grain box came within 54 bits, too
    far to count, kept its reshaped picture at 20 out.)

    The still's flat rows (`Query.low`: a dark picture inside crisp chrome) count within
    LOOSE_FLAT on flat assets (`flat_asset`), whose frames are as flat, and within
    LOW_DISTANCE on detailed ones: a dark still of another night take came back as
    `still_from` a lit office at 46-52 bits on its whole picture (quality 42-44).
    """
    hits = index.search(query.hashes, STILL_NEIGHBOURS, _still_limit(query))
    if query.low is not None:  # a flat picture (a dark frame in crisp chrome): closely
        limit = np.where(flat_asset(hits.asset_id), LOOSE_FLAT, LOW_DISTANCE)
        hits = _subset(hits, ~query.low[hits.query] | (hits.distance <= limit))
    if query.reframing is None or (len(hits.distance) and hits.distance.min() <= CLOSE):
        return hits
    reframing = query.reframing
    ahead = reframing.shaped or (None,) * len(reframing.samples)
    pictures = [
        still_shapes(picture, reframing.aspect(i), index, shaped)
        for i, ((_, picture), shaped) in enumerate(zip(reframing.samples, ahead, strict=True))
    ]
    flat = np.concatenate([low for _, low in pictures])
    reshaped = index.search(
        np.concatenate([hashes for hashes, _ in pictures]), STILL_NEIGHBOURS, RESHAPED_DISTANCE
    )
    new = lines_up_better(reshaped.distance, _own_best(hits, reshaped.asset_id), BITS)
    new &= ~flat[reshaped.query] | (reshaped.distance <= LOW_DISTANCE)  # flat: closely
    new &= ~_lone_flat(reshaped, flat[reshaped.query], new)
    return _joined(hits, _subset(reshaped, new))


def _lone_flat(hits: Hits, flat: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Which of the `kept` hits are an asset's only one, flat, and not within LONE_FLAT.

    Of the hundred and more reshaped pictures of a flat still, one can come within
    LOW_DISTANCE of another flat place by chance: split 8's tuning half had a car park's
    still placed in another car park on a single one at 32 bits. A cropped or played
    still of the footage itself meets its asset with several (neighbouring cuts, other
    candidate pictures) or with one closer (22 and 24 bits, the only lone ones there).
    """
    lone = np.zeros(len(hits.asset_id), dtype=bool)
    for asset_id in np.unique(hits.asset_id[kept]):
        rows = np.flatnonzero(kept & (hits.asset_id == asset_id))
        if len(rows) == 1 and flat[rows[0]] and hits.distance[rows[0]] > LONE_FLAT:
            lone[rows] = True
    return lone


def _own_best(hits: Hits, assets: np.ndarray) -> np.ndarray:
    """Per entry of `assets`, the closest of `hits` on that asset (a large number if none)."""
    if len(hits.asset_id) == 0:
        return np.full(len(assets), 1 << 10, dtype=np.int32)
    ids, where = np.unique(hits.asset_id, return_inverse=True)
    best = np.full(len(ids), 1 << 10, dtype=np.int32)
    np.minimum.at(best, where, hits.distance)
    at = np.clip(np.searchsorted(ids, assets), 0, len(ids) - 1)
    return np.where(ids[at] == assets, best[at], 1 << 10)


def _reframed(query: Query, hits: Hits, index: HashIndex) -> tuple[Query, Hits]:
    """The query and its hits, with an off-centre variant where one lines it up better."""
    assert query.reframing is not None
    shift = best_shift(query.reframing, _nearest(query, hits), index, FRAME_DISTANCE)
    if shift is None:
        return query, hits
    frames, hashes, low = shifted_hashes(query.reframing, shift)
    extra = index.search(hashes, VIDEO_NEIGHBOURS, FRAME_DISTANCE)
    rows = len(query.hashes)
    shifted = Hits(extra.query + rows, extra.asset_id, extra.time, extra.distance)
    return query.with_rows(frames, hashes, low), _joined(hits, shifted)


def match(
    query: Path | str | Fingerprint | Query,
    index: HashIndex,
    fingerprints: Mapping[int, Fingerprint],
    frames: FrameSource | None = None,
) -> list[FootageMatch]:
    """Assets whose footage (or, weaker, whose place) the query shows, best first.

    `fingerprints` gives the stored fingerprint of an indexed asset: candidates are
    re-checked on it, and it says whether the asset is a video or an image. `frames`, where
    given, reads an asset's frames at given seconds: a still placed at one moment of a
    video, and a video whose hashes cannot tell that footage from its place, are then
    re-checked on pixels (localcheck.py).
    """
    if isinstance(query, Fingerprint):
        query = query_from_fingerprint(query)
    elif not isinstance(query, Query):
        query = analyze_file(Path(query))
    still = query.kind == "image"

    def flat_asset(assets: np.ndarray) -> np.ndarray:
        floors = {int(a): quality_floor(fingerprints[int(a)].quality) for a in np.unique(assets)}
        return np.array([floors[int(a)] < MIN_QUALITY for a in assets], dtype=bool)

    hits = _still_hits(query, index, flat_asset) if still else _video_hits(query, index)
    if not still and query.reframing is not None:
        query, hits = _reframed(query, hits, index)
    found: list[FootageMatch] = []
    for asset_id in np.unique(hits.asset_id):
        subset = _subset(hits, hits.asset_id == asset_id)
        stored = fingerprints[int(asset_id)]
        flat = query.floor < MIN_QUALITY or quality_floor(stored.quality) < MIN_QUALITY
        low_limit = flat_limit(stored) if flat or query.low is not None else LOW_DISTANCE
        if not still and flat:
            subset = _subset(subset, subset.distance <= low_limit)  # flat footage: closely
        elif query.low is not None and not still:
            subset = _subset(subset, ~query.low[subset.query] | (subset.distance <= low_limit))
        if len(subset.distance) == 0:
            continue
        if still:
            result = _still_match(query, subset, int(asset_id), stored, low_limit)
            if result is not None and frames is not None and stored.kind == "video":
                result = still_is_that_moment(query, result, stored, frames)
            elif result is not None and result.relation == "same_scene":
                result = place_only(result)
        elif stored.kind != "video":
            result = _video_in_image(query, subset, int(asset_id))
        else:
            result = _video_decision(query, subset, int(asset_id), stored, index, frames)
        if result is not None:
            found.append(result)
    found += _same_place(query, index, fingerprints, {result.asset_id for result in found})
    return sorted(found, key=_rank)


def _same_place(
    query: Query, index: HashIndex, fingerprints: Mapping[int, Fingerprint], known: set[int]
) -> list[FootageMatch]:
    """`same_scene` for assets the hashes did not find whose place the query shows.

    Another take from a fixed camera over a flat place (a car crossing asphalt, a figure in
    a dark room) hashes too far from this one's frames to be found by them at all; its
    background is the same picture (place.py). Scored by the places' likeness; the best
    PLACE_LINKS only: a camera that filmed a thousand clips would otherwise link each new
    one to all of them (the links of each to its nearest still join them all). Two images
    are not compared so: two screenshots of one app share their chrome, not a place; a
    video's place is its picture region's background, without the chrome around it.
    """
    if query.place is None:
        return []
    alike = []
    kinds = ("video",) if query.kind == "image" else ("video", "image")
    for asset_id in index.places_like(query.place, 4 * PLACE_LINKS, kinds).tolist():
        stored = fingerprints[asset_id].place if asset_id not in known else None
        if stored is None:
            continue
        score = likeness(stored, query.place)
        if score >= SAME_PLACE:
            alike.append(FootageMatch(asset_id, "same_scene", score, 0.0, 0.0, None, None, ()))
    return sorted(alike, key=_rank)[:PLACE_LINKS]


def _rank(found: FootageMatch) -> tuple[bool, float, float, int]:
    """Matches of the footage before matches of the place, each best first."""
    return (found.relation == "same_scene", -found.score, -found.query_coverage, found.asset_id)
