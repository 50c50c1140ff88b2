"""Fingerprinting a file: kept frames of a video or an image, cropped to the picture, PDQ.

This is what ingest stores for every asset. The crop of a video is decided once from its
first CROP_FRAMES kept frames (half a minute of shaky handheld footage, four minutes of a
still shot), so that memory stays bounded (13 MB of thumbnails) for long videos while bars
and a static surround are still seen reliably.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from testament.fingerprint.borders import PixelBox, central, crop, trim_uniform, video_box
from testament.fingerprint.frames import THUMB, VideoSampler
from testament.fingerprint.model import Box, Fingerprint
from testament.fingerprint.pdq import hash_luma, hash_many
from testament.fingerprint.place import SAMPLES, describe, place_of
from testament.fingerprint.reframe import SpreadSample

CROP_FRAMES = 512
HASH_BATCH = 64  # kept frames hashed at once: hash_many, bit for bit, at a third of the cost
IMAGE_SIDE = 512  # images are reduced to at most this before looking for the picture


def open_luma(path: Path) -> np.ndarray | None:
    """The greyscale pixels of an image file (EXIF orientation applied), None if not one.

    An animated image (GIF, WebP, APNG: how screen recordings are often shared) is footage
    and goes the way of videos, which FFmpeg decodes frame by frame with their times.
    """
    try:
        with Image.open(path) as image:
            if getattr(image, "n_frames", 1) > 1:
                return None
            image = ImageOps.exif_transpose(image)
            image.thumbnail((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.BOX)
            return np.asarray(image.convert("L"))
    except (UnidentifiedImageError, OSError):
        return None


def fraction_box(box: PixelBox | None, width: int, height: int) -> Box | None:
    if box is None:
        return None
    left, top, right, bottom = box
    return (left / width, top / height, right / width, bottom / height)


def image_box(luma: np.ndarray) -> PixelBox | None:
    """Bars and flat chrome trimmed from a stored image; None when nothing is."""
    box = trim_uniform(luma)
    height, width = luma.shape
    return None if box == (0, 0, width, height) else box


def fingerprint_image(luma: np.ndarray) -> Fingerprint:
    box = image_box(luma)
    digest, quality, centre = stored_hashes(crop(luma, box))
    return Fingerprint(
        kind="image",
        duration=None,
        times=np.zeros(1),
        hashes=digest[None, :],
        quality=np.array([quality], dtype=np.uint8),
        crop=fraction_box(box, luma.shape[1], luma.shape[0]),
        inner=centre[None, :],
        place=describe(luma),  # the whole picture: a place is told by its framing
    )


def cropped_frames(sampler: VideoSampler) -> Iterator[tuple[float, np.ndarray, PixelBox | None]]:
    """Kept frames with their picture region, decided from the first CROP_FRAMES of them.

    The first frames are held back until the region is known, so that every frame of a
    fingerprint is hashed over the same region.
    """
    pending: list[tuple[float, np.ndarray]] = []
    box: PixelBox | None = None
    for t, thumb in sampler:
        if len(pending) < CROP_FRAMES:
            pending.append((t, thumb))
            if len(pending) < CROP_FRAMES:
                continue
            box = video_box(np.stack([held for _, held in pending]), [t for t, _ in pending])
            yield from ((held_t, held, box) for held_t, held in pending)
            continue
        yield t, thumb, box
    if 0 < len(pending) < CROP_FRAMES:
        box = video_box(np.stack([held for _, held in pending]), [t for t, _ in pending])
        yield from ((held_t, held, box) for held_t, held in pending)


def stored_hashes(picture: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """What a fingerprint stores of a kept frame's picture: hash, quality, centre hash."""
    digest, quality = hash_luma(picture)
    return digest, quality, hash_luma(central(picture))[0]


@dataclass(frozen=True)
class HashedFrames:
    """Kept frames hashed together: what a fingerprint stores of each (the picture region's
    hash and quality, its centre's hash) and, for queries, both mirrored."""

    numbers: range  # the frames' places among the video's kept frames
    times: list[float]
    thumbs: list[np.ndarray]
    box: PixelBox | None
    plain: np.ndarray
    mirror: np.ndarray
    quality: np.ndarray
    centre: np.ndarray
    centre_mirror: np.ndarray
    centre_quality: np.ndarray


def _hashed(first: int, held: list[tuple[float, np.ndarray, PixelBox | None]]) -> HashedFrames:
    box = held[0][2]
    pictures = [crop(thumb, box) for _, thumb, _ in held]
    plain, mirror, quality = hash_many([*pictures, *(central(p) for p in pictures)])
    count = len(held)
    return HashedFrames(
        range(first, first + count),
        [t for t, _, _ in held],
        [thumb for _, thumb, _ in held],
        box,
        plain[:count],
        mirror[:count],
        quality[:count],
        plain[count:],
        mirror[count:],
        quality[count:],
    )


def hashed_frames(sampler: VideoSampler) -> Iterator[HashedFrames]:
    """A video's kept frames (cropped_frames), hashed HASH_BATCH at a time."""
    held: list[tuple[float, np.ndarray, PixelBox | None]] = []
    first = 0
    for item in cropped_frames(sampler):
        held.append(item)
        if len(held) == HASH_BATCH:
            yield _hashed(first, held)
            first, held = first + len(held), []
    if held:
        yield _hashed(first, held)


class VideoHashes:
    """What a video's fingerprint keeps of its hashed frames, gathered a batch at a time
    (the hashes, and pictures spread over the video for its place: memory stays a batch of
    thumbnails and at most 2 x place.SAMPLES more, however long)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.box: PixelBox | None = None
        self.spread = SpreadSample(SAMPLES)

    def add(self, batch: HashedFrames) -> None:
        self.times += batch.times
        self.parts.append((batch.plain, batch.quality, batch.centre))
        self.box = batch.box
        for number, thumb in zip(batch.numbers, batch.thumbs, strict=True):
            self.spread.offer(number, crop(thumb, batch.box))

    def fingerprint(self, duration: float) -> Fingerprint:
        hashes, quality, inner = (np.concatenate(part) for part in zip(*self.parts, strict=True))
        return Fingerprint(
            kind="video",
            duration=duration,
            times=np.asarray(self.times, dtype=np.float64),
            hashes=hashes,
            quality=quality.astype(np.uint8),
            crop=fraction_box(self.box, THUMB, THUMB),
            inner=inner,
            place=place_of([picture for _, picture in self.spread.result()]),
        )


def _fingerprint_video(path: Path) -> Fingerprint:
    sampler = VideoSampler(path)
    kept = VideoHashes()
    for batch in hashed_frames(sampler):
        kept.add(batch)
    return kept.fingerprint(sampler.duration)


def fingerprint_file(path: Path) -> Fingerprint:
    """The stored fingerprint of a video or image; FingerprintError if it cannot be read."""
    path = Path(path)
    luma = open_luma(path)
    if luma is not None:
        return fingerprint_image(luma)
    return _fingerprint_video(path)
