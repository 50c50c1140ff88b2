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
    frames_at,
    moment_ratio,
    read_picture,
)
from testament.fingerprint.model import Fingerprint, FootageMatch
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
    """`found` (a still placed at one second of a video) as it stands, or as `same_scene`
    when the still does not show what moved at that second."""
    if found.relation != "still_from" or found.asset_time is None or query.source is None:
        return found
    others = other_moments(stored, found.asset_time)
    if not others:
        return found
    near = _near(stored, found.asset_time, NEAR_STEPS)
    pictures = frames(found.asset_id, [*near, *others])
    still = read_picture(query.source)
    if pictures is None or still is None:
        return found
    ratio = moment_ratio(still, pictures[: len(near)], pictures[len(near) :])
    if ratio is None or ratio < SAME_MOMENT:
        return found
    return replace(
        found,
        relation="same_scene",
        query_coverage=0.0,
        asset_coverage=0.0,
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
