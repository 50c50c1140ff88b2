"""Uneven crops: lining up a copy whose sides were cut by different amounts.

PDQ is not shift-invariant. Every stored frame also has a hash of its centre, so a copy cut
evenly on all sides (its whole frame is about that centre) or not cut at all matches. A
copy cut mostly from one side shows the stored centre shifted inside its frame, and an
uncut query of footage stored as an uneven crop shows the stored frame shifted inside its
own. Both are lined up by hashing the query on off-centre boxes: on each axis the box
leaves out a share of the side (one of `CUTS`) at one end, the other, or half at each
(eight directions besides the centred one the query already has, per share).

Eight more hashes and lookups per frame would cost more than the rest of a query, so the
boxes are first tried on a few frames spread over the video. Only a box that lines up
clearly better than the query's own hashes on several of them is then hashed on every
frame, as one extra variant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from testament.fingerprint.borders import PixelBox, crop
from testament.fingerprint.index import MIN_QUALITY, HashIndex, Hits
from testament.fingerprint.pdq import hash_luma

# Shares of a side an off-centre box leaves out: 6% puts the stored centre inside a frame
# cut 10% from one side; 10% is such a cut itself (an uncut query of a cut copy).
CUTS = (0.06, 0.1)
SAMPLES = 16  # frames the boxes are tried on
CLOSE = 32  # a frame whose own hashes came this close needs no other box
BETTER = 8  # bits closer than the query's own hashes that count as lining up
MIN_WINS = 3  # sample frames a box must line up on
WIN_SHARE = 0.25  # ... and at least this share of the usable samples
NEIGHBOURS = 4

Pictures = Callable[[], Iterator[tuple[int, np.ndarray]]]


@dataclass(frozen=True)
class Reframing:
    """What a query needs to try off-centre boxes: a few frames now, every frame on demand.

    `samples` are (query frame, picture) pairs spread over the video; `pictures` yields
    every query frame's picture in order (from memory, or by decoding the file again).
    """

    samples: list[tuple[int, np.ndarray]]
    pictures: Pictures


# Per axis: -1 keeps the start, 1 keeps the end, 0 the middle; then the share left out.
Shift = tuple[int, int, float]
SHIFTS: tuple[Shift, ...] = tuple(
    (x, y, cut) for cut in CUTS for x in (-1, 0, 1) for y in (-1, 0, 1) if (x, y) != (0, 0)
)


def _span(size: int, shift: int, share: float) -> tuple[int, int]:
    cut = round(size * share)
    if shift < 0:
        return 0, size - cut
    if shift > 0:
        return cut, size
    return cut // 2, size - cut // 2


def shifted_box(picture: np.ndarray, shift: Shift) -> PixelBox:
    """The off-centre box of a picture for one shift."""
    height, width = picture.shape
    left, right = _span(width, shift[0], shift[2])
    top, bottom = _span(height, shift[1], shift[2])
    return (left, top, right, bottom)


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


def _nearest(hits: Hits, rows: int) -> np.ndarray:
    """Closest hit distance per query row (a large number where there is none)."""
    nearest = np.full(rows, 1 << 10, dtype=np.int32)
    np.minimum.at(nearest, hits.query, hits.distance)
    return nearest


def best_shift(
    reframing: Reframing, own: np.ndarray, index: HashIndex, max_distance: int
) -> Shift | None:
    """The shift that lines the query up clearly better than its own hashes, if any.

    `own` is the closest distance each query frame already reached with its own hashes;
    frames that already found a close match (a copy's usual case) are not tried again.
    """
    hashes, frames, shifts = [], [], []
    for frame, picture in reframing.samples:
        if own[frame] <= CLOSE:
            continue
        for shift in SHIFTS:
            digest, quality = hash_luma(crop(picture, shifted_box(picture, shift)))
            if quality >= MIN_QUALITY:
                hashes.append(digest)
                frames.append(frame)
                shifts.append(shift)
    if not hashes:
        return None
    nearest = _nearest(index.search(np.stack(hashes), NEIGHBOURS, max_distance), len(hashes))
    wins: dict[Shift, int] = {}
    for distance, frame, shift in zip(nearest, frames, shifts, strict=True):
        if distance <= max_distance and distance + BETTER <= own[frame]:
            wins[shift] = wins.get(shift, 0) + 1
    usable = len(set(frames))
    best = max(wins, key=lambda s: wins[s], default=None)
    if best is None or wins[best] < max(MIN_WINS, WIN_SHARE * usable):
        return None
    return best


def shifted_hashes(reframing: Reframing, shift: Shift) -> tuple[np.ndarray, np.ndarray]:
    """Every query frame hashed on the off-centre box: (frame numbers, hashes), usable only."""
    frames, hashes = [], []
    for frame, picture in reframing.pictures():
        digest, quality = hash_luma(crop(picture, shifted_box(picture, shift)))
        if quality >= MIN_QUALITY:
            frames.append(frame)
            hashes.append(digest)
    if not hashes:
        return np.zeros(0, dtype=np.int32), np.zeros((0, 32), dtype=np.uint8)
    return np.asarray(frames, dtype=np.int32), np.stack(hashes)
