"""The records the matching engine produces: fingerprints and footage matches."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class FingerprintError(Exception):
    """A file could not be decoded into frames to hash (the message is one line)."""


Box = tuple[float, float, float, float]
"""A region as fractions of the frame: left, top, right, bottom."""


@dataclass(frozen=True)
class Fingerprint:
    """Per-frame PDQ hashes of one video or image, as stored at ingest.

    `crop` is the picture region that was hashed (letterbox bars or a static frame around
    the picture removed), as fractions of the decoded frame; None when the whole frame was.
    `inner` holds, per frame, the hash of the central region of that picture (80% of its
    area), which a cropped or slightly rotated copy lines up with; None in fingerprints
    made before it existed (they are matched on `hashes` alone). `place` describes what a
    fixed camera's footage (or an image) shows when nothing moves (place.py), to link other
    footage of the same place (`same_scene`); None where there is no such background.
    """

    kind: str  # "video" | "image"
    duration: float | None
    times: np.ndarray  # float64 [n]
    hashes: np.ndarray  # uint8 [n, 32]
    quality: np.ndarray  # uint8 [n]
    crop: Box | None = None
    inner: np.ndarray | None = None  # uint8 [n, 32]
    place: np.ndarray | None = None  # int8 [tiles, cells]

    def __len__(self) -> int:
        return len(self.times)


@dataclass(frozen=True)
class Segment:
    """A stretch of the query that shows the same footage as a stretch of the asset."""

    query_start: float
    query_end: float
    asset_start: float
    asset_end: float


@dataclass(frozen=True)
class FootageMatch:
    """How a query relates to one indexed asset; `relation` reads "the query is ... the asset".

    `same_scene` (same place and camera, different footage) is weaker than every other
    relation and never counts as a match of the footage. A still's `asset_times` lists every
    interval of the asset it matches (seconds, best first); `asset_time` is set only when the
    best of them is clearly better than the rest.
    """

    asset_id: int
    relation: str  # same_footage | clip_of | contains | overlaps | still_from | same_scene
    score: float
    query_coverage: float
    asset_coverage: float
    offset: float | None
    asset_time: float | None
    segments: tuple[Segment, ...]
    asset_times: tuple[tuple[float, float], ...] = ()
