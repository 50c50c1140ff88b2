"""The query side: richer hashing than what is stored, to meet copies half-way.

A stored fingerprint has one hash per kept frame. A query file is hashed several ways per
frame: the detected picture region and the whole frame, each as is and mirrored, and for
stills also the largest textured rectangle (the picture inside a screenshot). Every hash
row remembers which query frame it came from and whether it was mirrored, so alignment can
treat a mirrored copy as a copy of its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from testament.fingerprint.borders import (
    PixelBox,
    RowFill,
    central,
    crop,
    edge_boxes,
    fill_band,
    grain_box,
    moving_box,
    sampled,
    static_band,
    static_mask,
    textured_box,
    trim_fill,
    trim_uniform,
    video_box,
)
from testament.fingerprint.extract import (
    HashedFrames,
    VideoHashes,
    cropped_frames,
    fingerprint_image,
    hashed_frames,
    open_luma,
)
from testament.fingerprint.frames import QUERY_MIN_GAP, THUMB, VideoSampler
from testament.fingerprint.index import (
    FAINT_QUALITY,
    LOW_QUALITY,
    MIN_QUALITY,
    quality_floor,
)
from testament.fingerprint.model import Fingerprint
from testament.fingerprint.pdq import hash_luma, hash_many
from testament.fingerprint.place import SAMPLES, describe, place_of
from testament.fingerprint.reframe import Reframing, SpreadSample, spread, still_shape_hashes

RESHAPED_BOXES = 2  # edge-bounded boxes of a still reshaped, besides its trimmed picture


@dataclass(frozen=True)
class Query:
    """Hashes to look up, each tied to a query frame (frame) and an orientation (mirrored)."""

    kind: str  # "video" | "image"
    duration: float | None
    frame_times: np.ndarray  # float64 [frames] time of each kept query frame
    hashes: np.ndarray  # uint8 [rows, 32]
    frame: np.ndarray  # int32 [rows]
    mirrored: np.ndarray  # bool [rows]
    # The pictures for lining up an uneven crop (see reframe.py).
    reframing: Reframing | None = field(default=None, compare=False)
    # The least PDQ quality among its hashes: below MIN_QUALITY only for an image that
    # has nothing better (index.quality_floor), whose hits then count only closely.
    floor: int = MIN_QUALITY
    # The file it was made from, for the local-feature checks (local.py) that need pixels.
    source: Path | None = field(default=None, compare=False)
    # Rows whose hash is below MIN_QUALITY in a query that has better ones (the whole dark
    # frame beside its sharp moving region, a still's flat picture inside a screenshot's
    # crisp chrome): kept, but their hits count only closely. None: no such rows.
    low: np.ndarray | None = field(default=None, compare=False)
    # What the footage shows when nothing moves, to find other footage of its place
    # (place.py); None where it has no such background.
    place: np.ndarray | None = field(default=None, compare=False)

    def with_rows(
        self, frames: np.ndarray, hashes: np.ndarray, low: np.ndarray | None = None
    ) -> Query:
        """This query with more (unmirrored) hash rows for the given frames; `low` marks
        those below MIN_QUALITY (kept as flat rows only where the query has sharp ones)."""
        added = np.zeros(len(frames), dtype=bool)
        flat = added if low is None or self.floor < MIN_QUALITY else low.astype(bool)
        marked = None
        if self.low is not None or flat.any():
            own = self.low if self.low is not None else np.zeros(len(self.frame), dtype=bool)
            marked = np.concatenate([own, flat])
        return replace(
            self,
            hashes=np.concatenate([self.hashes, hashes]),
            frame=np.concatenate([self.frame, frames.astype(np.int32)]),
            mirrored=np.concatenate([self.mirrored, added]),
            low=marked,
        )


def query_from_fingerprint(fingerprint: Fingerprint) -> Query:
    """A query from stored hashes alone (no mirrored or re-cropped variants)."""
    floor = quality_floor(fingerprint.quality)
    rows = np.flatnonzero(fingerprint.quality >= floor).astype(np.int32)
    hashes = fingerprint.hashes[rows]
    if fingerprint.inner is not None and len(fingerprint.inner) == len(fingerprint.times):
        hashes = np.concatenate([hashes, fingerprint.inner[rows]])
        rows = np.concatenate([rows, rows])
    return Query(
        kind=fingerprint.kind,
        duration=fingerprint.duration,
        frame_times=np.asarray(fingerprint.times, dtype=np.float64),
        hashes=np.ascontiguousarray(hashes, dtype=np.uint8),
        frame=rows,
        mirrored=np.zeros(len(rows), dtype=bool),
        floor=floor,
        place=fingerprint.place,
    )


class _Rows:
    """A query's hashes as they are made, each with its frame, orientation and quality."""

    def __init__(self) -> None:
        self.hashes: list[np.ndarray] = []
        self.frame: list[int] = []
        self.mirrored: list[bool] = []
        self.quality: list[int] = []

    def add(
        self, frame: int, luma: np.ndarray, boxes: list[PixelBox | None], inner: bool = True
    ) -> None:
        """Hash each distinct box (and the centre of the first), as is and mirrored."""
        seen: set[PixelBox | None] = set()
        pictures = []
        for box in boxes:
            if box not in seen:
                seen.add(box)
                pictures.append(crop(luma, box))
        if inner:
            pictures.insert(1, central(pictures[0]))
        plain, mirrored, quality = hash_many(pictures)
        self.add_hashes(frame, list(zip(plain, mirrored, quality.tolist(), strict=True)))

    def add_plain(self, frame: int, picture: np.ndarray) -> None:
        """One picture hashed as is only (an extra variant: half the cost of both ways)."""
        plain, quality = hash_luma(picture)
        if quality >= FAINT_QUALITY:
            self.hashes.append(plain)
            self.frame.append(frame)
            self.mirrored.append(False)
            self.quality.append(quality)

    def add_hashes(self, frame: int, hashed: list[tuple[np.ndarray, np.ndarray, int]]) -> None:
        """Rows already hashed elsewhere: (plain, mirrored, quality) per picture."""
        for plain, mirror, quality in hashed:
            if quality < FAINT_QUALITY:
                continue
            self.hashes += [plain, mirror]
            self.frame += [frame, frame]
            self.mirrored += [False, True]
            self.quality += [quality, quality]

    def query(
        self,
        kind: str,
        duration: float | None,
        frame_times: np.ndarray,
        reframing: Reframing | None = None,
    ) -> Query:
        """The query, on hashes of MIN_QUALITY unless too few frames have any (flat footage;
        then LOW_QUALITY, or FAINT_QUALITY where even that is too rare, as in the index).

        Where enough have, the flatter rows are kept too, marked `low`: a dark frame's
        whole picture is often below MIN_QUALITY while the region its figure or car moves
        through is above it, and the stored frame is the whole picture.
        """
        quality = np.asarray(self.quality, dtype=np.int32)
        frame = np.asarray(self.frame, dtype=np.int32)
        best = np.zeros(len(frame_times), dtype=np.int32)  # per frame, its best picture
        np.maximum.at(best, frame, quality)
        floor = quality_floor(best)
        least = min(floor, LOW_QUALITY)
        keep = quality >= least
        low = quality[keep] < floor
        hashes = np.stack(self.hashes)[keep] if self.hashes else np.zeros((0, 32), np.uint8)
        return Query(
            kind=kind,
            duration=duration,
            frame_times=frame_times,
            hashes=hashes,
            frame=frame[keep],
            mirrored=np.asarray(self.mirrored, dtype=bool)[keep],
            reframing=reframing,
            floor=floor,
            low=low if low.any() else None,
        )


def still_boxes(
    luma: np.ndarray,
    edges: list[PixelBox],
    trims: list[PixelBox],
    grain: PixelBox | None,
) -> list[PixelBox | None]:
    """Candidate picture regions of a still: whole, bars trimmed, textured rectangle,
    grain, edges.

    `edges` (boxes bounded by straight edges, `borders.edge_boxes`), `trims` (the picture
    with flat or one-fill borders trimmed) and `grain` (`borders.grain_box`) are found
    once, for this and for reshaping.
    """
    height, width = luma.shape
    boxes: list[PixelBox | None] = [None]
    for trimmed in dict.fromkeys(trims):
        if trimmed != (0, 0, width, height):
            boxes.append(trimmed)
    inner = textured_box(luma)
    if inner is not None:
        boxes.append(inner)
        boxes.append(_trimmed(luma, inner))
    if grain is not None:
        boxes.append(grain)
    for box in edges:
        boxes.append(box)
        # An edge box often runs on into flat chrome (a player's bottom bar under its
        # darkened controls, where the edge between them is too weak to count).
        trimmed = _trimmed(luma, box)
        if trimmed != box:
            boxes.append(trimmed)
    return boxes


def _still_query(luma: np.ndarray) -> Query:
    """An image's query: every candidate picture region; pictures kept for reshaping.

    The picture with flat borders trimmed (the whole of a cropped screenshot) and the two
    strongest boxes bounded by straight edges (a player's picture, often short of the
    strip its controls cover) are kept as thumbnails, for the matcher to reshape should
    the image's own hashes find nothing close (see reframe.py).
    """
    edges = edge_boxes(luma)
    trims = [trim_uniform(luma), trim_fill(luma)]
    grain = grain_box(luma)
    rows = _Rows()
    rows.add(0, luma, still_boxes(luma, edges, trims, grain))
    candidates = [*trims, *edges[:RESHAPED_BOXES], *([] if grain is None else [grain])]
    reshaped = [crop(luma, box) for box in dict.fromkeys(candidates)]
    samples = [(0, _thumb(picture)) for picture in reshaped]
    aspects = tuple(picture.shape[1] / max(1, picture.shape[0]) for picture in reshaped)
    reframing = Reframing(samples, lambda: iter(samples), aspects)
    return rows.query("image", None, np.zeros(1), reframing)


def _shapes_made(query: Query) -> Query:
    """A still's query with the reshaped pictures of its samples hashed already."""
    reframing = query.reframing
    if reframing is None:
        return query
    shaped = tuple(
        still_shape_hashes(picture, reframing.aspect(i))
        for i, (_, picture) in enumerate(reframing.samples)
    )
    return replace(query, reframing=replace(reframing, shaped=shaped))


def _aspect(size: tuple[int, int], box: PixelBox | None) -> float:
    """Width over height, in the video, of a picture region given in thumbnail pixels."""
    width, height = size
    if box is not None:
        left, top, right, bottom = box
        width, height = width * (right - left), height * (bottom - top)
    return width / max(1, height)


def _thumb(picture: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(picture).resize((THUMB, THUMB), Image.Resampling.BOX))


def _trimmed(luma: np.ndarray, box: PixelBox) -> PixelBox:
    left, top, _, _ = box
    tl, tt, tr, tb = trim_uniform(crop(luma, box))
    return (left + tl, top + tt, left + tr, top + tb)


def analyze_file(path: Path) -> Query:
    """Hash a query file every useful way; raises FingerprintError if it cannot be read."""
    path = Path(path)
    luma = open_luma(path)
    if luma is not None:
        return replace(_still_query(luma), source=path, place=describe(luma))
    sampler = VideoSampler(path, min_gap=QUERY_MIN_GAP, hash_change=None)
    kept = list(sampler)
    times = np.asarray([t for t, _ in kept], dtype=np.float64)
    thumbs = np.stack([thumb for _, thumb in kept])
    box = video_box(thumbs, times)
    unveil = _overlay_remover(thumbs, box)
    # The moving region is a query variant even where nothing frames it as a window: a
    # phone's interface around a screen recording is seldom a plain fill all round. So is
    # the region with grain, where it holds still: a figure walking in a still room moves
    # far from the window's edges, but the room's grain fills the window.
    boxes = list(dict.fromkeys([box, None, moving_box(thumbs), _grain_window(thumbs)]))
    rows = _Rows()
    for number, thumb in enumerate(thumbs):
        rows.add(number, thumb, boxes)
        if unveil is not None:
            rows.add_plain(number, central(unveil(thumb)))

    def pictures() -> Iterator[tuple[int, np.ndarray]]:
        return ((number, crop(thumb, box)) for number, thumb in enumerate(thumbs))

    samples = [(number, crop(thumbs[number], box)) for number in spread(len(thumbs))]
    reframing = Reframing(samples, pictures, (_aspect(sampler.size, box),))
    query = rows.query("video", sampler.duration, times, reframing)
    place = place_of([crop(thumbs[number], box) for number in spread(len(thumbs), SAMPLES)])
    return replace(query, source=path, place=place)


GRAIN_SAMPLES = 8  # kept frames a video's grain box is looked for on


def _grain_window(thumbs: np.ndarray) -> PixelBox | None:
    """The box where a video's frames have grain, when it is the same on most frames.

    In a phone's screen recording the interface and the letterbox fill around the picture
    are flat; the picture (a room, asphalt) has grain to its edges (borders.grain_box).
    Looked for on a few frames spread over the video; None unless one box comes back on at
    least half of them (a frame's flat sky or dark corner moves a box about).
    """
    found = [grain_box(thumbs[i]) for i in spread(len(thumbs), GRAIN_SAMPLES)]
    counts = Counter(box for box in found if box is not None)
    if not counts:
        return None
    box, count = counts.most_common(1)[0]
    return box if 2 * count >= len(found) else None


def _overlay_remover(
    thumbs: np.ndarray, box: PixelBox | None
) -> Callable[[np.ndarray], np.ndarray] | None:
    """A frame -> picture function that paints over static overlays, or None if none.

    PDQ sees a frame's low frequencies, and a banner's or logo's bright block shifts them.
    A static band across the bottom (a news banner) is filled with the last picture row
    above it (the picture's columns over the whole height: the picture region may stop
    above the band); other still pixels in a moving picture (a logo, a caption) are
    filled from their moving neighbours in the row. Hashed centred and unmirrored, as one
    extra variant (about 0.2 ms per kept frame).
    """
    height, width = thumbs.shape[1:]
    band = static_band(thumbs, box)
    if band is not None:
        left, _, right, _ = box if box is not None else (0, 0, width, height)

        def picture(thumb: np.ndarray) -> np.ndarray:
            return fill_band(thumb[:, left:right], band)

    else:

        def picture(thumb: np.ndarray) -> np.ndarray:
            return crop(thumb, box)

    pictures = np.stack([picture(thumbs[i]) for i in sampled(len(thumbs))])
    if band is not None:
        pictures[:, band:] = 0  # already painted over; not a logo to fill again
    mask = static_mask(pictures)
    if mask is not None and band is not None:
        mask[band:] = False
    if mask is None:
        return picture if band is not None else None
    fill = RowFill(mask)
    return lambda thumb: fill(picture(thumb))


def analyze_file_for_ingest(path: Path, shapes_ahead: bool = False) -> tuple[Fingerprint, Query]:
    """The stored fingerprint and the rich query of one file, from a single decode.

    The fingerprint is exactly what `fingerprint_file` returns; the query is hashed like
    `analyze_file`'s (picture region, its centre and the whole frame, each also mirrored,
    on kept frames at least QUERY_MIN_GAP apart), except that a video's picture region is
    the stored one (decided from its first CROP_FRAMES kept frames) rather than one decided
    from all its frames, and that the static-overlay variant is left out (finding an
    overlay needs frames from all over the video before the first is hashed). Pictures
    reshaped for uneven crops are tried on frames kept aside; should one line up, every
    frame is decoded again (see reframe.py). `shapes_ahead`: a still's reshaped pictures
    are hashed now, for a caller that analyses many in threads and matches them in one.
    """
    path = Path(path)
    luma = open_luma(path)
    if luma is not None:
        fingerprint = fingerprint_image(luma)
        query = replace(_still_query(luma), source=path, place=fingerprint.place)
        return fingerprint, _shapes_made(query) if shapes_ahead else query
    sampler = VideoSampler(path)
    rows = _Rows()
    samples = SpreadSample()
    queried = _QuerySpacing()
    kept = VideoHashes()
    for batch in hashed_frames(sampler):
        kept.add(batch)
        for i, t in enumerate(batch.times):
            if queried(t):
                samples.offer(batch.numbers[i], crop(batch.thumbs[i], batch.box))
                _add_stored_rows(rows, batch, i)
    fingerprint = kept.fingerprint(sampler.duration)
    aspect = _aspect(sampler.size, kept.box)
    reframing = Reframing(samples.result(), lambda: _pictures_again(path), (aspect,))
    query = rows.query("video", sampler.duration, fingerprint.times, reframing)
    return fingerprint, replace(query, source=path, place=fingerprint.place)


def _add_stored_rows(rows: _Rows, batch: HashedFrames, i: int) -> None:
    """Query rows of a batch's `i`th frame: its stored hashes, each also mirrored, and the
    whole frame's where the picture region is not all of it."""
    number = batch.numbers[i]
    rows.add_hashes(
        number,
        [
            (batch.plain[i], batch.mirror[i], int(batch.quality[i])),
            (batch.centre[i], batch.centre_mirror[i], int(batch.centre_quality[i])),
        ],
    )
    if batch.box is not None:
        rows.add(number, batch.thumbs[i], [None], inner=False)


class _QuerySpacing:
    """Which stored frames get query rows at ingest: those QUERY_MIN_GAP apart or more."""

    def __init__(self) -> None:
        self.last = -np.inf

    def __call__(self, t: float) -> bool:
        if t - self.last < QUERY_MIN_GAP:
            return False
        self.last = t
        return True


def _pictures_again(path: Path) -> Iterator[tuple[int, np.ndarray]]:
    """The pictures of the frames that got query rows, numbered as at ingest.

    Only those: a reshaped picture of a frame that was not looked up would be compared
    with nothing, and of a scrolling scene it matches the stored frame of another moment.
    Decoding is deterministic, so the frames and their numbers are the same as the first
    time.
    """
    queried = _QuerySpacing()
    for number, (t, thumb, box) in enumerate(cropped_frames(VideoSampler(path))):
        if queried(t):
            yield number, crop(thumb, box)
