"""The local-feature re-check of a still: this moment of the footage, or only its place?

PDQ places a still at the stored frame it is closest to. A still of another take from the
same fixed camera is close to the frames of this one too: the room is most of the picture.
So a still placed at one moment of a video is lined up on that frame by keypoints
(local.py) and compared with it where only that moment shows something (what moved): a
copy shows what the frame shows there, another take the background. Needs the pixels of
both: the query's file and the asset's frames (a FrameSource); without them the PDQ
decision stands.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from testament.fingerprint.local import SAME_MOMENT, FrameSource, moment_ratio, read_picture
from testament.fingerprint.model import Fingerprint, FootageMatch
from testament.fingerprint.query import Query
from testament.fingerprint.recheck import AWAY, usable

# The stored frame a still was placed at lies up to a quarter second from the still's own
# (frames are kept at most half a second apart): the frames this close are compared.
NEAR_STEP = 0.04
NEAR_STEPS = 3
OTHERS = 3  # other moments of the asset a still is compared with
OTHER_AWAY = AWAY  # s: ... at least this far from the placed moment (0.6 s: worse, 9/26)
SHORT_AWAY = 0.5  # s: ... or this far, in a clip too short for two such moments
APART = 0.5  # s: ... at least this far from each other (their movers in other places)


def other_moments(stored: Fingerprint, at: float) -> list[float]:
    """Up to OTHERS indexed moments at least OTHER_AWAY from `at`, the nearest first, APART from
    each other; none when fewer than two: with one, what moved there would look unique.

    A clip too short to have two such moments (a take of 1.5-2 s) is compared with moments
    SHORT_AWAY from `at` instead: otherwise no still of it was ever checked, and every
    still of another take of its room was `still_from` it.
    """
    times = usable(stored)[0]
    for away in (OTHER_AWAY, SHORT_AWAY):
        picked: list[float] = []
        for t in sorted(times[np.abs(times - at) >= away], key=lambda t: abs(t - at)):
            if all(abs(t - p) >= APART for p in picked):
                picked.append(float(t))
            if len(picked) == OTHERS:
                break
        if len(picked) >= 2:
            return picked
    return []


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
    near = [found.asset_time + step * NEAR_STEP for step in range(-NEAR_STEPS, NEAR_STEPS + 1)]
    near = [t for t in near if t >= 0 and (stored.duration is None or t <= stored.duration)]
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
