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

Eight directions of each, besides the centred ones the query already has, a tilt and a logo:

- "tilt": a copy turned by a few degrees and cut to the largest upright rectangle (a phone
  held askew, a re-framed upload) shows the stored picture rotated; turned back by -3 or +3
  degrees (with the picture's true aspect ratio) and cut to the stored centre, it lies
  13-22 bits from its frame where as it is it lies 48-68 (the tuning half's dark places);
  a tilt of 2 or 4 degrees comes back within 22-40.
- "mask": a channel's logo pasted into a corner. A copy of moving footage has its static
  overlays painted over (query.py), but over a still or dark view the logo holds as still
  as the picture, and its bright tile moves PDQ's low frequencies more than anything the
  view has: a night room's, a car park's or a smoky sky's logo copy lay 74-104 bits from
  its frames (median, tuning half). The corner is filled with the plane fitted to the
  rest of the picture (the light's fall-off, not a flat grey), which brings them to 14-70.

Hashing and looking up twenty more hashes per frame would cost more than the rest of a
query, so they are first tried on a few frames spread over the video. Only one that lines up
clearly better than the query's own hashes on several of them is then hashed on every
frame, as one extra variant. A still has one picture, so all its shapes are looked up,
with the cut a quarter of the way along each axis too (48), when its own hashes found
nothing close.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from PIL import Image

from testament.fingerprint.borders import INNER_SIDE
from testament.fingerprint.index import (
    FAINT_QUALITY,
    LOW_DISTANCE,
    LOW_QUALITY,
    MIN_QUALITY,
    HashIndex,
)
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
    Pictures are square thumbnails; `aspects` gives each sample's width over height in
    the file (one value: every picture's), for turning a tilt back (empty: square).
    """

    samples: list[tuple[int, np.ndarray]]
    pictures: Pictures
    aspects: tuple[float, ...] = ()
    shaped: tuple[Shapes, ...] = ()  # a still's `still_shape_hashes` per sample, made ahead

    def aspect(self, sample: int = 0) -> float:
        """Width over height, in the file, of one sample's picture (of every picture)."""
        if not self.aspects:
            return 1.0
        return self.aspects[min(sample, len(self.aspects) - 1)]


# Per axis: where the cut was taken (-1 all from the start, 1 all from the end, 0 half
# each, between: that share of the way), and which picture is rebuilt ("centre" or "cut").
Shift = tuple[float, float, str]
# Reshaped pictures hashed: the shape of each usable one, its hash, and whether it is flat.
Shapes = tuple[list[Shift], np.ndarray, np.ndarray]


def shifts(positions: tuple[float, ...]) -> tuple[Shift, ...]:
    """Every off-centre shift with the cut at these positions along each axis."""
    return tuple(
        (x, y, kind)
        for kind in ("centre", "cut")
        for x in positions
        for y in positions
        if (x, y) != (0, 0)
    )


TILT = 3.0  # degrees a tilted copy is assumed turned by, either way
TILTS: tuple[Shift, ...] = ((TILT, 0.0, "tilt"), (-TILT, 0.0, "tilt"))
MASK_AREA = 0.16  # share of the frame a corner logo is assumed to cover, at most
LOGO_MARGIN = 1 / 30  # ... and its usual distance from the frame's edges
# Per corner (0 top left, 1 top right, 2 bottom left, 3 bottom right): a logo painted over.
MASKS: tuple[Shift, ...] = tuple((float(corner), MASK_AREA, "mask") for corner in range(4))
# Shapes not narrowed down further: each stands on its own.
WHOLE = ("tilt", "mask")
# A video's: tried on sample frames, one hashed on every frame.
SHIFTS = shifts((-1, 0, 1)) + TILTS + MASKS
# A still's: one picture to hash, so the cut a quarter of the way along is tried too.
STILL_SHIFTS = shifts((-1, -0.5, 0, 0.5, 1)) + TILTS


def _span(size: int, end: float, kind: str) -> tuple[int, int]:
    """Pixel span along one axis; for "centre" it may reach past the picture's edges."""
    before = CUT * (1 - end) / 2  # share of the original cut away before the copy's start
    if kind == "cut":
        start = round(size * before)
        return start, start + size - round(size * CUT)
    original = size / (1 - CUT)  # the uncut side, in the copy's pixels
    margin = (1 - INNER_SIDE) / 2  # the stored centre leaves this share at each edge
    return round((margin - before) * original), round((1 - margin - before) * original)


def untilted(picture: np.ndarray, degrees: float, aspect: float) -> np.ndarray:
    """A tilted copy's picture turned back and cut to the stored centre.

    The copy is taken to show the largest upright rectangle of the original turned by
    `degrees`: with the copy w x h (at its true aspect), the original was
    (w cos + h sin) x (w sin + h cos), and the stored centre is INNER_SIDE of that, about
    the same middle. The corners the turn leaves empty get the picture's median.
    """
    height = picture.shape[0]
    width = max(1, round(height * aspect))
    image = Image.fromarray(picture).resize((width, height), Image.Resampling.BILINEAR)
    image = image.rotate(
        -degrees, resample=Image.Resampling.BILINEAR, fillcolor=int(np.median(picture))
    )
    angle = np.radians(abs(degrees))
    cos, sin = float(np.cos(angle)), float(np.sin(angle))
    side_w = INNER_SIDE * (width * cos + height * sin)
    side_h = INNER_SIDE * (width * sin + height * cos)
    box = ((width - side_w) / 2, (height - side_h) / 2, (width + side_w) / 2, (height + side_h) / 2)
    return np.asarray(image.crop(tuple(round(v) for v in box)))


def unlogoed(picture: np.ndarray, corner: int, area: float, aspect: float) -> np.ndarray:
    """The picture with a square logo of up to `area` of the frame (in the file's pixels)
    at one corner painted over by the plane that best fits the rest of the picture."""
    height, width = picture.shape
    box_w = round(width * min(0.6, (area / aspect) ** 0.5 + LOGO_MARGIN))
    box_h = round(height * min(0.6, (area * aspect) ** 0.5 + LOGO_MARGIN))
    columns = slice(0, box_w) if corner % 2 == 0 else slice(width - box_w, width)
    rows = slice(0, box_h) if corner < 2 else slice(height - box_h, height)
    covered = np.zeros(picture.shape, dtype=bool)
    covered[rows, columns] = True
    y, x = np.mgrid[0:height, 0:width]
    terms = np.stack([np.ones(picture.size), x.ravel(), y.ravel()], axis=1)
    rest = ~covered.ravel()
    plane, *_ = np.linalg.lstsq(terms[rest], picture.ravel()[rest].astype(np.float64), rcond=None)
    painted = picture.copy()
    painted[covered] = (terms[covered.ravel()] @ plane).clip(0, 255).astype(np.uint8)
    return painted


def shifted_picture(picture: np.ndarray, shift: Shift, aspect: float = 1.0) -> np.ndarray:
    """The picture reshaped for one shift, reflected at the edges where it falls short
    (`aspect`: the picture's width over height in the file, for a tilt or a logo)."""
    if shift[2] == "tilt":
        return untilted(picture, shift[0], aspect)
    if shift[2] == "mask":
        return unlogoed(picture, int(shift[0]), shift[1], aspect)
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


def _tally(
    reframing: Reframing,
    own: np.ndarray,
    index: HashIndex,
    max_distance: int,
    candidates: Iterable[Shift],
) -> dict[Shift, tuple[int, float]]:
    """Per shift tried on the sample frames not already close: on how many it lines up
    clearly better than the frame's own hashes, and its median distance (a flat picture
    counting only within LOW_DISTANCE as a win)."""
    tried, hashes, low = _usable_hashes(
        ((frame, shift), shift, shifted_picture(picture, shift, reframing.aspect(i)))
        for i, (frame, picture) in enumerate(reframing.samples)
        if own[frame] > CLOSE
        for shift in candidates
    )
    if not tried:
        return {}
    found = index.search(hashes, NEIGHBOURS, max(max_distance, RANKED))
    closest = nearest(found.query, found.distance, len(hashes))
    counted = np.where(low & (closest > LOW_DISTANCE), 1 << 10, closest)
    frames = np.asarray([frame for frame, _ in tried])
    better = lines_up_better(counted, own[frames], max_distance)
    result: dict[Shift, tuple[int, float]] = {}
    for shift in dict.fromkeys(shift for _, shift in tried):
        mine = np.asarray([key[1] == shift for key in tried])
        result[shift] = (int(better[mine].sum()), float(np.median(closest[mine])))
    return result


def _finer(shift: Shift, step: float) -> list[Shift]:
    """The cut positions around `shift`, `step` further each way along each axis."""
    x, y, kind = shift
    around = (
        (min(1.0, max(-1.0, x + dx)), min(1.0, max(-1.0, y + dy)), kind)
        for dx in (-step, 0.0, step)
        for dy in (-step, 0.0, step)
    )
    return [s for s in dict.fromkeys(around) if s[:2] != (0, 0) and s != shift]


REFINE = (0.5, 0.25)  # steps by which the best cut position is narrowed down
GAIN = 6  # bits (median) by which a finer cut position must line up better to be taken


def _clearly_better(new: tuple[int, float], old: tuple[int, float]) -> bool:
    """Whether a shape's (wins, median distance) beat another's: more wins, or as many
    and a median GAIN closer (a copy cut all from one side stays at that side)."""
    return new[0] > old[0] or (new[0] == old[0] and new[1] + GAIN <= old[1])


RANKED = 96  # bits: shapes are ranked by distances up to this (a win needs far less)
# The centred shapes (the query's own hashes already hold them) as starting points only.
CENTRED: tuple[Shift, ...] = ((0.0, 0.0, "centre"), (0.0, 0.0, "cut"))


def best_shift(
    reframing: Reframing, own: np.ndarray, index: HashIndex, max_distance: int
) -> Shift | None:
    """The shift that lines the query up clearly better than its own hashes, if any.

    `own` is the closest distance each query frame already reached with its own hashes;
    frames that already found a close match (a copy's usual case) are not tried again.
    The cut is first tried at either end or half each side; the best of those is then
    narrowed down a half and a quarter step each way. A copy's cut falls anywhere: on
    fine texture (asphalt, a dim room) a cut a quarter of the way off costs 20-40 bits
    (a car park 30 bits at the right place, 44 or more at the nearest of the first nine).
    """
    scores = _tally(reframing, own, index, max_distance, SHIFTS + CENTRED)
    if not scores:
        return None

    def rank(shift: Shift) -> tuple[int, float]:
        return (-scores[shift][0], scores[shift][1])

    cuts = [s for s in scores if s[2] not in WHOLE]
    start = min(cuts, key=rank) if cuts else None
    for step in REFINE if start is not None else ():
        finer = _tally(reframing, own, index, max_distance, _finer(start, step))
        scores |= finer
        if finer and _clearly_better(finer[candidate := min(finer, key=rank)], scores[start]):
            start = candidate
    best = min([s for s in scores if s[2] in WHOLE or s == start], key=rank)
    if best in CENTRED:
        return None  # the query's own hashes are these
    wins = scores[best][0]
    samples = len({frame for frame, _ in reframing.samples if own[frame] > CLOSE})
    return best if wins >= max(MIN_WINS, WIN_SHARE * samples) else None


def reshaped_hashes(
    picture: np.ndarray, every: tuple[Shift, ...], aspect: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """One picture reshaped for every shift and hashed: hashes (usable ones) and which of
    them are flat (below MIN_QUALITY: they count only closely)."""
    _, hashes, low = _shaped(picture, every, aspect)
    return hashes, low


def _shaped(picture: np.ndarray, every: tuple[Shift, ...], aspect: float) -> Shapes:
    """`reshaped_hashes` with the shape of each usable picture."""
    return _usable_hashes(
        (shift, shift, shifted_picture(picture, shift, aspect)) for shift in every
    )


STILL_STEP = 0.25  # a still's best cut position is narrowed down this far each way


def still_shape_hashes(picture: np.ndarray, aspect: float) -> Shapes:
    """A still's picture reshaped for every STILL_SHIFTS shape and hashed (usable ones):
    the part of `still_shapes` that needs no index, so it can be made ahead in a thread."""
    return _shaped(picture, STILL_SHIFTS, aspect)


def still_shapes(
    picture: np.ndarray, aspect: float, index: HashIndex, shaped: Shapes | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """A still's picture reshaped for every STILL_SHIFTS shape and, around the one that
    comes closest to anything indexed, for the cut positions a quarter step each way:
    hashes, and which are flat.

    A cropped screenshot's cut falls anywhere, and on a dark or finely textured frame a
    cut an eighth of the way off the nearest tried position leaves it 40-100 bits away (a
    night room's JPEG cut 52 of 64 columns from the left, 44 of 48 rows from the top: 104
    bits as it is, 10 with the cut where it was). Eight more shapes, not 110 more.
    `shaped`: the STILL_SHIFTS hashes, where they were made ahead.
    """
    keys, hashes, low = shaped or still_shape_hashes(picture, aspect)
    cuts = np.flatnonzero([shift[2] != "tilt" for shift in keys])
    found = index.search(hashes[cuts], 1, RANKED) if len(cuts) else None
    if found is None or len(found.query) == 0:
        return hashes, low
    best = keys[int(cuts[found.query[np.argmin(found.distance)]])]
    finer, finer_low = reshaped_hashes(picture, tuple(_finer(best, STILL_STEP)), aspect)
    return np.concatenate([hashes, finer]), np.concatenate([low, finer_low])


def shifted_hashes(reframing: Reframing, shift: Shift) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every query frame reshaped for one shift and hashed: (frames, hashes, flat), usable
    ones only."""
    aspect = reframing.aspect()
    frames, hashes, low = _usable_hashes(
        (frame, shift, shifted_picture(picture, shift, aspect))
        for frame, picture in reframing.pictures()
    )
    return np.asarray(frames, dtype=np.int32), hashes, low


def _least_quality(shift: Shift) -> int:
    """The PDQ quality a reshaped picture needs to be used.

    A logo painted over leaves a dark or flat view as faint as it is under the logo's
    tile (a car park's asphalt: quality 10-19 once its logo is gone, 14 bits from its
    frames), so such pictures go as low as the index does for faint footage.
    """
    return FAINT_QUALITY if shift[2] == "mask" else LOW_QUALITY


def _usable_hashes(
    pictures: Iterable[tuple[Key, Shift, np.ndarray]],
) -> tuple[list[Key], np.ndarray, np.ndarray]:
    """PDQ hashes of the pictures of usable quality (`_least_quality` of each one's shift),
    with the keys of those pictures and which are flat (hashed together: a still's 48
    shapes of a picture cost a third as much so).

    Usable is LOW_QUALITY, not MIN_QUALITY: a night scene, asphalt or smoke has no picture
    of quality 50, and its reshaped pictures were all dropped (the tuning half's dark
    rotate_3, crop_10 and player-screenshot misses); the flat ones are marked, and count
    only closely.
    """
    items = list(pictures)
    hashes, _, quality = hash_many([picture for _, _, picture in items])
    usable = quality >= np.asarray([_least_quality(shift) for _, shift, _ in items], dtype=int)
    keys = [key for (key, _, _), ok in zip(items, usable, strict=True) if ok]
    return keys, hashes[usable], quality[usable] < MIN_QUALITY
