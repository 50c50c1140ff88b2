"""Uneven crops: lining up a copy whose sides were cut by different amounts.

PDQ is not shift-invariant. Every stored frame also has a hash of its centre, so a copy cut
evenly on all sides (its whole frame is about that centre) or not cut at all matches. A
copy cut mostly from one side shows the stored centre shifted inside its frame, and an
uncut query of footage stored as an uneven crop shows the stored frame shifted inside its
own. Both are lined up by hashing the query on reshaped pictures, assuming the usual cut
(`CUT` of each side in all) taken at one end, the other, or half at each, per axis:

- "centre": the stored centre as it sits in a copy so cut. Part of it was cut away with
  the edge; that strip is filled by reflecting the picture at its edge, so the geometry
  is exact and only the strip's content is guessed (on fine texture, a box that merely
  stopped at the edge lost 70-80 bits to the scale difference; reflected, about 30).
- "cut": the query with the cut taken away (an uncut query of a cut copy).

Eight directions of each, besides the centred ones the query already has. Hashing and
looking up sixteen more hashes per frame would cost more than the rest of a query, so
they are first tried on a few frames spread over the video. Only one that lines up
clearly better than the query's own hashes on several of them is then hashed on every
frame, as one extra variant. A still has one picture, so all its shapes are looked up,
with the cut a quarter of the way along each axis too (48), when its own hashes found
nothing close.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from testament.fingerprint.borders import INNER_SIDE
from testament.fingerprint.index import MIN_QUALITY, HashIndex
from testament.fingerprint.pdq import hash_many

CUT = 0.1  # the share of each side an uneven crop is assumed to have taken, in all
SAMPLES = 16  # frames the shapes are tried on
CLOSE = 32  # a frame whose own hashes came this close needs no other shape
BETTER = 8  # bits closer than the query's own hashes that count as lining up
MIN_WINS = 3  # sample frames a shape must line up on
WIN_SHARE = 0.25  # ... and at least this share of the usable samples
NEIGHBOURS = 4

Pictures = Callable[[], Iterator[tuple[int, np.ndarray]]]
Key = TypeVar("Key")


@dataclass(frozen=True)
class Reframing:
    """What a query needs to try reshaped pictures: a few frames now, every frame on demand.

    `samples` are (query frame, picture) pairs spread over the video; `pictures` yields
    every query frame's picture in order (from memory, or by decoding the file again).
    """

    samples: list[tuple[int, np.ndarray]]
    pictures: Pictures


# Per axis: where the cut was taken (-1 all from the start, 1 all from the end, 0 half
# each, between: that share of the way), and which picture is rebuilt ("centre" or "cut").
Shift = tuple[float, float, str]


def shifts(positions: tuple[float, ...]) -> tuple[Shift, ...]:
    """Every off-centre shift with the cut at these positions along each axis."""
    return tuple(
        (x, y, kind)
        for kind in ("centre", "cut")
        for x in positions
        for y in positions
        if (x, y) != (0, 0)
    )


SHIFTS = shifts((-1, 0, 1))  # a video's: tried on sample frames, one hashed on every frame
# A still's: one picture to hash, so the cut a quarter of the way along is tried too.
STILL_SHIFTS = shifts((-1, -0.5, 0, 0.5, 1))


def _span(size: int, end: float, kind: str) -> tuple[int, int]:
    """Pixel span along one axis; for "centre" it may reach past the picture's edges."""
    before = CUT * (1 - end) / 2  # share of the original cut away before the copy's start
    if kind == "cut":
        start = round(size * before)
        return start, start + size - round(size * CUT)
    original = size / (1 - CUT)  # the uncut side, in the copy's pixels
    margin = (1 - INNER_SIDE) / 2  # the stored centre leaves this share at each edge
    return round((margin - before) * original), round((1 - margin - before) * original)


def shifted_picture(picture: np.ndarray, shift: Shift) -> np.ndarray:
    """The picture reshaped for one shift, reflected at the edges where it falls short."""
    height, width = picture.shape
    left, right = _span(width, shift[0], shift[2])
    top, bottom = _span(height, shift[1], shift[2])
    pad = ((max(0, -top), max(0, bottom - height)), (max(0, -left), max(0, right - width)))
    if any(any(side) for side in pad):
        picture = np.pad(picture, pad, mode="reflect")
    (above, _), (before, _) = pad
    return picture[top + above : bottom + above, left + before : right + before]


def spread(count: int, limit: int = SAMPLES) -> list[int]:
    """Up to `limit` frame numbers spread evenly over `count` frames."""
    return sorted({int(i) for i in np.linspace(0, count - 1, min(count, limit))}) if count else []


class SpreadSample:
    """Keeps about `limit` items spread evenly over a stream of unknown length.

    Items whose number is a multiple of the step are kept; when twice the limit are held,
    every other one is dropped and the step doubles. Memory stays within 2 x limit items.
    """

    def __init__(self, limit: int = SAMPLES) -> None:
        self.limit = limit
        self.step = 1
        self.items: list[tuple[int, np.ndarray]] = []

    def offer(self, number: int, picture: np.ndarray) -> None:
        if number % self.step:
            return
        self.items.append((number, picture.copy()))
        if len(self.items) >= 2 * self.limit:
            self.step *= 2
            self.items = [item for item in self.items if item[0] % self.step == 0]

    def result(self) -> list[tuple[int, np.ndarray]]:
        return [self.items[i] for i in spread(len(self.items), self.limit)]


def nearest(slots: np.ndarray, distance: np.ndarray, size: int) -> np.ndarray:
    """Closest distance per slot (query row or frame) of hits; a large number where none."""
    closest = np.full(size, 1 << 10, dtype=np.int32)
    np.minimum.at(closest, slots, distance)
    return closest


def lines_up_better(distance: np.ndarray, own: np.ndarray, max_distance: int) -> np.ndarray:
    """Which tried hashes came clearly closer than their frame's own hashes had."""
    return (distance <= max_distance) & (distance + BETTER <= own)


def best_shift(
    reframing: Reframing, own: np.ndarray, index: HashIndex, max_distance: int
) -> Shift | None:
    """The shift that lines the query up clearly better than its own hashes, if any.

    `own` is the closest distance each query frame already reached with its own hashes;
    frames that already found a close match (a copy's usual case) are not tried again.
    """
    tried, hashes = _usable_hashes(
        ((frame, shift), shifted_picture(picture, shift))
        for frame, picture in reframing.samples
        if own[frame] > CLOSE
        for shift in SHIFTS
    )
    if not tried:
        return None
    found = index.search(hashes, NEIGHBOURS, max_distance)
    closest = nearest(found.query, found.distance, len(hashes))
    frames = np.asarray([frame for frame, _ in tried])
    better = lines_up_better(closest, own[frames], max_distance)
    wins = Counter(shift for (_, shift), ok in zip(tried, better, strict=True) if ok)
    if not wins:
        return None
    best, count = wins.most_common(1)[0]
    return best if count >= max(MIN_WINS, WIN_SHARE * len(np.unique(frames))) else None


def reshaped_hashes(picture: np.ndarray, every: tuple[Shift, ...]) -> np.ndarray:
    """One picture reshaped for every shift and hashed (usable hashes only)."""
    return _usable_hashes((shift, shifted_picture(picture, shift)) for shift in every)[1]


def shifted_hashes(reframing: Reframing, shift: Shift) -> tuple[np.ndarray, np.ndarray]:
    """Every query frame reshaped for one shift and hashed: (frames, hashes), usable only."""
    frames, hashes = _usable_hashes(
        (frame, shifted_picture(picture, shift)) for frame, picture in reframing.pictures()
    )
    return np.asarray(frames, dtype=np.int32), hashes


def _usable_hashes(pictures: Iterable[tuple[Key, np.ndarray]]) -> tuple[list[Key], np.ndarray]:
    """PDQ hashes of the pictures of usable quality, with the keys of those pictures
    (hashed together: a still's 48 shapes of a picture cost a third as much so)."""
    pairs = list(pictures)
    hashes, _, quality = hash_many([picture for _, picture in pairs])
    usable = quality >= MIN_QUALITY
    return [key for (key, _), ok in zip(pairs, usable, strict=True) if ok], hashes[usable]
