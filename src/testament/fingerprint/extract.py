"""Fingerprinting a file: kept frames of a video or an image, cropped to the picture, PDQ.

This is what ingest stores for every asset. The crop of a video is decided once from its
first CROP_FRAMES kept frames (a few minutes of footage), so that memory stays bounded
for long videos while bars and a static surround are still seen reliably.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from testament.fingerprint.borders import PixelBox, central, crop, trim_uniform, video_box
from testament.fingerprint.frames import THUMB, VideoSampler
from testament.fingerprint.model import Box, Fingerprint
from testament.fingerprint.pdq import hash_luma

CROP_FRAMES = 512
IMAGE_SIDE = 512  # images are reduced to at most this before looking for the picture


def open_luma(path: Path) -> np.ndarray | None:
    """The greyscale pixels of an image file (EXIF orientation applied), None if not one."""
    try:
        with Image.open(path) as image:
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
    picture = crop(luma, box)
    digest, quality = hash_luma(picture)
    return Fingerprint(
        kind="image",
        duration=None,
        times=np.zeros(1),
        hashes=digest[None, :],
        quality=np.array([quality], dtype=np.uint8),
        crop=fraction_box(box, luma.shape[1], luma.shape[0]),
        inner=hash_luma(central(picture))[0][None, :],
    )


def _fingerprint_video(path: Path) -> Fingerprint:
    sampler = VideoSampler(path)
    times: list[float] = []
    hashes: list[np.ndarray] = []
    inner: list[np.ndarray] = []
    quality: list[int] = []
    pending: list[np.ndarray] = []
    box: PixelBox | None = None
    decided = False

    def add(thumb: np.ndarray) -> None:
        picture = crop(thumb, box)
        digest, q = hash_luma(picture)
        hashes.append(digest)
        quality.append(q)
        inner.append(hash_luma(central(picture))[0])

    for t, thumb in sampler:
        times.append(t)
        if decided:
            add(thumb)
            continue
        pending.append(thumb)
        if len(pending) >= CROP_FRAMES:
            box, decided = video_box(np.stack(pending)), True
            for held in pending:
                add(held)
            pending.clear()
    if not decided:
        box = video_box(np.stack(pending))
        for held in pending:
            add(held)
    return Fingerprint(
        kind="video",
        duration=sampler.duration,
        times=np.asarray(times, dtype=np.float64),
        hashes=np.stack(hashes),
        quality=np.asarray(quality, dtype=np.uint8),
        crop=fraction_box(box, THUMB, THUMB),
        inner=np.stack(inner),
    )


def fingerprint_file(path: Path) -> Fingerprint:
    """The stored fingerprint of a video or image; FingerprintError if it cannot be read."""
    path = Path(path)
    luma = open_luma(path)
    if luma is not None:
        return fingerprint_image(luma)
    return _fingerprint_video(path)
