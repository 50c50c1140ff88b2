"""The query side: richer hashing than what is stored, to meet copies half-way.

A stored fingerprint has one hash per kept frame. A query file is hashed several ways per
frame: the detected picture region and the whole frame, each as is and mirrored, and for
stills also the largest textured rectangle (the picture inside a screenshot). Every hash
row remembers which query frame it came from and whether it was mirrored, so alignment can
treat a mirrored copy as a copy of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from testament.fingerprint.borders import (
    PixelBox,
    crop,
    textured_box,
    trim_uniform,
    video_box,
)
from testament.fingerprint.extract import open_luma
from testament.fingerprint.frames import VideoSampler
from testament.fingerprint.index import MIN_QUALITY
from testament.fingerprint.model import Fingerprint
from testament.fingerprint.pdq import hash_luma_mirrored


@dataclass(frozen=True)
class Query:
    """Hashes to look up, each tied to a query frame (frame) and an orientation (mirrored)."""

    kind: str  # "video" | "image"
    duration: float | None
    frame_times: np.ndarray  # float64 [frames] time of each kept query frame
    hashes: np.ndarray  # uint8 [rows, 32]
    frame: np.ndarray  # int32 [rows]
    mirrored: np.ndarray  # bool [rows]


def query_from_fingerprint(fingerprint: Fingerprint) -> Query:
    """A query from stored hashes alone (no mirrored or re-cropped variants)."""
    rows = np.flatnonzero(fingerprint.quality >= MIN_QUALITY).astype(np.int32)
    return Query(
        kind=fingerprint.kind,
        duration=fingerprint.duration,
        frame_times=np.asarray(fingerprint.times, dtype=np.float64),
        hashes=np.ascontiguousarray(fingerprint.hashes[rows]),
        frame=rows,
        mirrored=np.zeros(len(rows), dtype=bool),
    )


class _Rows:
    def __init__(self) -> None:
        self.hashes: list[np.ndarray] = []
        self.frame: list[int] = []
        self.mirrored: list[bool] = []

    def add(self, frame: int, luma: np.ndarray, boxes: list[PixelBox | None]) -> None:
        seen: set[PixelBox | None] = set()
        for box in boxes:
            if box in seen:
                continue
            seen.add(box)
            plain, mirror, quality = hash_luma_mirrored(crop(luma, box))
            if quality < MIN_QUALITY:
                continue
            self.hashes += [plain, mirror]
            self.frame += [frame, frame]
            self.mirrored += [False, True]

    def query(self, kind: str, duration: float | None, frame_times: np.ndarray) -> Query:
        hashes = np.stack(self.hashes) if self.hashes else np.zeros((0, 32), dtype=np.uint8)
        return Query(
            kind=kind,
            duration=duration,
            frame_times=frame_times,
            hashes=hashes,
            frame=np.asarray(self.frame, dtype=np.int32),
            mirrored=np.asarray(self.mirrored, dtype=bool),
        )


def still_boxes(luma: np.ndarray) -> list[PixelBox | None]:
    """Candidate picture regions of a still: whole, bars trimmed, textured rectangle."""
    height, width = luma.shape
    trimmed = trim_uniform(luma)
    boxes: list[PixelBox | None] = [None]
    if trimmed != (0, 0, width, height):
        boxes.append(trimmed)
    inner = textured_box(luma)
    if inner is not None:
        boxes.append(inner)
        left, top, _, _ = inner
        tl, tt, tr, tb = trim_uniform(crop(luma, inner))
        boxes.append((left + tl, top + tt, left + tr, top + tb))
    return boxes


def analyze_file(path: Path) -> Query:
    """Hash a query file every useful way; raises FingerprintError if it cannot be read."""
    path = Path(path)
    luma = open_luma(path)
    rows = _Rows()
    if luma is not None:
        rows.add(0, luma, still_boxes(luma))
        return rows.query("image", None, np.zeros(1))
    sampler = VideoSampler(path)
    kept = list(sampler)
    times = np.asarray([t for t, _ in kept], dtype=np.float64)
    thumbs = np.stack([thumb for _, thumb in kept])
    box = video_box(thumbs)
    for number, thumb in enumerate(thumbs):
        rows.add(number, thumb, [box, None])
    return rows.query("video", sampler.duration, times)
