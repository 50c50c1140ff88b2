"""The local-feature re-check: this moment of the footage, or only its place?

PDQ places a still at the stored frame it is closest to. A still of another take from the
same fixed camera is close to the frames of this one too: the room is most of the picture.
So a still placed at one moment of a video is lined up on that frame by keypoints
(local.py) and compared with it where only that moment shows something (what moved): a
copy shows what the frame shows there, another take the background. Needs the pixels of
both: the query's file and the asset's frames (a FrameSource); without them the PDQ
decision stands.

A video lined up with an asset whose moments PDQ cannot tell apart (a night room whose
small figure hardly moves the hash: 2-4 bits between moments) is checked the same way,
on a few of its frames at the offset it lined up at.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from testament.fingerprint.align import STEP
from testament.fingerprint.local import (
    SAME_MOMENT,
    FrameSource,
    StillPixels,
    frames_at,
    moment_ratio,
    moment_ratios,
    read_picture,
)
from testament.fingerprint.model import Fingerprint, FootageMatch, Segment
from testament.fingerprint.query import Query
from testament.fingerprint.recheck import AWAY, usable
from testament.fingerprint.reframe import spread

# The stored frame a still was placed at lies up to a quarter second from the still's own
# (frames are kept at most half a second apart): the frames this close are compared.
NEAR_STEP = 0.04
NEAR_STEPS = 3
OTHERS = 3  # other moments of the asset a still is compared with
OTHER_AWAY = AWAY  # s: ... at least this far from the placed moment (0.6 s: worse, 9/26)
SHORT_AWAY = 0.5  # s: ... or this far, in a clip too short for two such moments
APART = 0.5  # s: ... at least this far from each other (their movers in other places)
GRID = 0.25  # s: between the kept frames of a short clip, times this far apart are read too
# A still is tried at moments this far apart (each with its near frames, ±0.12 s) over the
# intervals its hashes allow, at most this many besides the one they placed it at.
CANDIDATE_STEP = 0.24
CANDIDATES = 12
# ... and placed at the one it shows best when its ratio there is under this: on the
# tuning half of split 7, stills of other takes came to 0.50 at best over their tries,
# copies to under 0.4 at 185 of the 228 that any moment could tell (median 0.11).
SEARCHED = 0.35
# A video's frames are checked at this many of the moments it agrees at, each against the
# asset's frames up to 0.32 s around, two frames apart (a decoded frame costs): where the
# hashes hardly change from moment to moment (a short take of one room, a talking head),
# the offset they line up at can be that far off.
VIDEO_CHECKS = 4
VIDEO_NEAR_STEP = 0.08
VIDEO_NEAR_STEPS = 4
SHOWN = 2 / 3  # share of the checked frames that must show what moved at their moment
# Another take: every checked frame this far from its moment (other takes 8.7-57 on the
# tuning half; a copy's frames 0.1-1.8, but for the odd one of a talking head that hardly
# moves, 5-10, beside others under 1)
ANOTHER_TAKE = 3.0


def other_moments(stored: Fingerprint, at: float) -> list[float]:
    """Up to OTHERS moments of the asset at least OTHER_AWAY from `at`, the nearest first,
    APART from each other; none when fewer than two: with one, what moved there would look
    unique.

    Moments are the indexed frames' times. A clip too short to have two such moments (a
    take of 1.5-2 s) is compared with moments SHORT_AWAY from `at` instead: otherwise no
    still of it was ever checked, and every still of another take of its room was
    `still_from` it. Where its frames hardly change, few are kept (a 1.5 s take: three,
    half a second apart), and times between them are read too (GRID apart, over the span
    the kept frames stand for: the decoder has every frame).
    """
    times = usable(stored)[0]
    if len(times) == 0:
        return []
    end = times[-1] + STEP if stored.duration is None else min(stored.duration, times[-1] + STEP)
    grid = np.arange(times[0], end, GRID)
    for away, candidates in ((OTHER_AWAY, times), (SHORT_AWAY, times), (SHORT_AWAY, grid)):
        picked: list[float] = []
        for t in sorted(candidates[np.abs(candidates - at) >= away], key=lambda t: abs(t - at)):
            if all(abs(t - p) >= APART for p in picked):
                picked.append(float(t))
            if len(picked) == OTHERS:
                break
        if len(picked) >= 2:
            return picked
    return []


def _near(stored: Fingerprint, at: float, steps: int, step: float = NEAR_STEP) -> list[float]:
    """Times around `at`, `step` apart, inside the asset."""
    near = [at + i * step for i in range(-steps, steps + 1)]
    return [t for t in near if t >= 0 and (stored.duration is None or t <= stored.duration)]


def still_is_that_moment(
    query: Query, found: FootageMatch, stored: Fingerprint, frames: FrameSource
) -> FootageMatch:
    """`found` (a still matched to a video) placed at the moment whose pixels it shows, or
    `same_scene` when it shows what moved at none of the moments its hashes allow.

    PDQ cannot tell the moments of a still view apart: a still's hashes come as close to
    a second of the take a few tenths away as to its own, and a still of another take as
    close as a copy would (`same_scene` by the hashes alone, `found.asset_times` keeping
    the moments they allow). The moment they placed it at is tried first: where the still
    shows it beyond doubt (SEARCHED), as most copies do, that is the answer. Otherwise
    every moment they allow is tried (`candidates`), each against the others tried as well
    as its own neighbours (a view that recurs looks like its recurrences, not like the
    seconds around it), and the still is placed at the one it shows best where that one
    shows it beyond doubt (many tries: a stricter bar than SAME_MOMENT). Failing that, the
    placed moment decides as it did alone: that moment (SAME_MOMENT), or only the place.
    Where no moment can tell (nothing moved, or the still cannot be lined up), the hashes'
    decision stands.
    """
    if found.relation not in ("still_from", "same_scene") or query.source is None:
        return found
    frames = _remembered(frames)
    picture = read_picture(query.source)
    still = None if picture is None else StillPixels(picture)
    placed = _placed_ratio(still, found, stored, frames)
    if placed is not None and placed < SEARCHED:
        return found  # that moment beyond doubt: no need to try the others
    tried = candidates(found)
    plans = [plan for at in tried for plan in _plan(stored, at, tried)]
    ratios = _moment_ratios(still, found.asset_id, plans, frames)
    best, at = min(((r, at) for at, _, r in ratios if r is not None), default=(np.inf, None))
    if at is not None and best < SEARCHED:
        return _placed_at(found, at)
    if placed is not None and placed < SAME_MOMENT:
        return found
    if placed is not None or found.relation == "same_scene":
        return place_only(found)
    return found


def _remembered(frames: FrameSource) -> FrameSource:
    """`frames`, decoding each (asset, second) once: the moments tried after the placed one
    are compared with its frames again."""
    known: dict[tuple[int, float], np.ndarray] = {}

    def read(asset_id: int, times: list[float]) -> list[np.ndarray] | None:
        missing = [t for t in times if (asset_id, t) not in known]
        if missing:
            pictures = frames(asset_id, missing)
            if pictures is None:
                return None
            known.update(
                ((asset_id, t), picture) for t, picture in zip(missing, pictures, strict=True)
            )
        return [known[asset_id, t] for t in times]

    return read


def _placed_ratio(
    still: StillPixels | None, found: FootageMatch, stored: Fingerprint, frames: FrameSource
) -> float | None:
    """The still's ratio at the moment its hashes placed it at (None: no such moment, or
    it cannot tell)."""
    if found.asset_time is None:
        return None
    ratios = _moment_ratios(still, found.asset_id, _plan(stored, found.asset_time, []), frames)
    return ratios[0][1] if ratios else None


def _plan(
    stored: Fingerprint, at: float, tried: list[float]
) -> list[tuple[float, list[float], list[float], list[float]]]:
    """The frames the still is compared with at `at` (none if it cannot be): those near it,
    other moments of the asset, and the other moments `tried` far enough from it."""
    others = other_moments(stored, at)
    near = _near(stored, at, NEAR_STEPS)
    if not others or not near:
        return []
    return [(at, near, others, [t for t in tried if abs(t - at) >= SHORT_AWAY])]


def _placed_at(found: FootageMatch, at: float) -> FootageMatch:
    """`found` as `still_from` moment `at`, the interval holding it first."""
    shown = [span for span in found.asset_times if span[0] <= at <= span[1]]
    spans = tuple(shown + [span for span in found.asset_times if span not in shown])
    return replace(
        found,
        relation="still_from",
        query_coverage=1.0,
        asset_time=at,
        segments=tuple(Segment(0.0, 0.0, start, end) for start, end in spans),
        asset_times=spans,
    )


def candidates(found: FootageMatch) -> list[float]:
    """The moments a still is tried at: the one its hashes placed it at, then moments
    CANDIDATE_STEP apart over the intervals they allow, best interval first (each is
    compared with the frames NEAR_STEP * NEAR_STEPS either side of it, so together they
    cover the intervals), at most CANDIDATES of them spread evenly over longer ones."""
    picked = [] if found.asset_time is None else [found.asset_time]
    spread_over = []
    for start, end in found.asset_times:
        count = max(1, int(np.ceil((end - start) / CANDIDATE_STEP)))
        step = (end - start) / count
        spread_over.extend(start + step * (i + 0.5) for i in range(count))
    for at in (spread_over[i] for i in spread(len(spread_over), CANDIDATES)):
        if all(abs(at - p) >= CANDIDATE_STEP / 2 for p in picked):
            picked.append(at)
    return picked


def _moment_ratios(
    still: StillPixels | None,
    asset_id: int,
    plans: list[tuple[float, list[float], list[float], list[float]]],
    frames: FrameSource,
) -> list[tuple[float, float | None, float | None]]:
    """(moment, ratio against its neighbours, ratio against them and the other moments
    tried) of the still at each planned moment; the asset's frames of every plan are read
    at once (one pass through the file)."""
    if not plans or still is None:
        return []
    wanted = sorted({t for _, near, others, more in plans for t in (*near, *others, *more)})
    pictures = frames(asset_id, wanted)
    if pictures is None:
        return []
    picture = dict(zip(wanted, pictures, strict=True))

    def at(times: list[float]) -> list[np.ndarray]:
        return [picture[t] for t in times]

    return [
        (moment, *moment_ratios(still, at(near), at(others), at(more)))
        for moment, near, others, more in plans
    ]


def place_only(found: FootageMatch) -> FootageMatch:
    """`found` as `same_scene`: the same place, and no moment or stretch of its footage."""
    return replace(
        found,
        relation="same_scene",
        query_coverage=0.0,
        asset_coverage=0.0,
        offset=None,
        asset_time=None,
        segments=(),
        asset_times=(),
    )


def video_is_that_footage(
    query: Query,
    agreeing: np.ndarray,
    found: FootageMatch,
    stored: Fingerprint,
    frames: FrameSource,
) -> bool | None:
    """Whether a video lined up at `found.offset` shows what moved in the asset at those
    moments, judged on the pixels of up to VIDEO_CHECKS of its `agreeing` frames (a bool
    per query frame); None when the pixels cannot tell (no file to read, nothing moved,
    not lined up on keypoints).

    Another take of the place agrees at no moment in particular (ratios 2.5-57 on the
    synthetic rooms), a copy at nearly every one (0.003-1.8): SHOWN of the frames that
    tell must agree for a copy, and every one must be ANOTHER_TAKE off for another take.
    """
    if found.offset is None or query.source is None:
        return None
    agree = np.flatnonzero(agreeing)
    picked = agree[spread(len(agree), VIDEO_CHECKS)]
    plan = []
    for frame in picked:
        at = float(query.frame_times[frame]) + found.offset
        near = _near(stored, at, VIDEO_NEAR_STEPS, VIDEO_NEAR_STEP)
        others = other_moments(stored, at)
        if near and others:
            plan.append((float(query.frame_times[frame]), near, others))
    if len(plan) < 2:
        return None
    own = frames_at(query.source, [t for t, _, _ in plan], video=True)
    pictures = frames(found.asset_id, [t for _, near, others in plan for t in (*near, *others)])
    if own is None or pictures is None:
        return None
    ratios = []
    for picture, (_, near, others) in zip(own, plan, strict=True):
        taken, pictures = pictures[: len(near) + len(others)], pictures[len(near) + len(others) :]
        ratio = moment_ratio(picture, taken[: len(near)], taken[len(near) :])
        if ratio is not None:
            ratios.append(ratio)
    if len(ratios) < 2:
        return None
    if sum(ratio < SAME_MOMENT for ratio in ratios) >= SHOWN * len(ratios):
        return True
    return False if min(ratios) >= ANOTHER_TAKE else None
