"""Decoding and sampling: which frames of a video are worth hashing, as small greyscale.

Every frame is decoded (that is the floor of the cost), but the per-frame selection work is
a strided look at the luma plane, a few microseconds. A frame is kept when it differs enough
from the last kept one, or when `max_gap` seconds have passed, so any moment of the video is
within max_gap/2 of a kept frame. Where the picture is soft (out of focus, dim), PDQ's
quality flickers around the level below which a hash is not used; there frames are kept
`dense_gap` apart, so the usable ones among them are not skipped. Kept frames become square
luma thumbnails (aspect ratio is irrelevant: PDQ squeezes everything to 64x64) for border
detection and hashing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
from PIL import Image

from testament.fingerprint.model import FingerprintError

THUMB = 160  # side of the stored luma thumbnail of a kept frame
MAX_GAP = 0.5  # seconds between kept frames at most
MIN_CHANGE = 4.0  # mean absolute change (0-255) of the blurred probe that keeps a frame
DENSE_GAP = 0.0  # seconds between kept frames where the picture is soft: every frame
# Mean luma step between neighbouring pixels of the sparse sample where PDQ quality lies
# between about 25 and 65 (measured on out-of-focus footage): soft, but not flat.
SOFT_DETAIL = (2.5, 7.0)
FLAT_STEP = 0.25  # mean step along a row or column of a bar (flat, bar a little noise)
# A query video needs enough frames to agree on an offset, not every change: a fifth of
# a second apart keeps alignment exact (the stored side is dense) at a fraction of the work.
QUERY_MIN_GAP = 0.2
DECODE_THREADS = min(4, os.cpu_count() or 1)
_PROBE = 16  # the probe is a _PROBE x _PROBE grid of block means
_PLANAR_8BIT = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "gray", "nv12"}


def _luma(frame: av.VideoFrame) -> np.ndarray:
    """The frame's luma plane as a numpy view, without a colour conversion when possible."""
    if frame.format.name in _PLANAR_8BIT:
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)
        return rows[:, : frame.width]
    return frame.to_ndarray(format="gray")


def sparse(luma: np.ndarray) -> np.ndarray:
    """About 64x64 pixels of the frame, taken on a grid (no filtering, a view)."""
    height, width = luma.shape
    return luma[:: max(1, height // (_PROBE * 4)), :: max(1, width // (_PROBE * 4))]


def probe(sub: np.ndarray) -> np.ndarray:
    """A blurred 16x16 summary of a sparse sample of the frame (~40 µs).

    Averaging blocks makes it see what PDQ sees (coarse structure), so camera shake over
    fine texture does not look like new content.
    """
    bh, bw = max(1, sub.shape[0] // _PROBE), max(1, sub.shape[1] // _PROBE)
    rows, cols = sub.shape[0] // bh, sub.shape[1] // bw
    return sub[: rows * bh, : cols * bw].reshape(rows, bh, cols, bw).mean(axis=(1, 3))


def soft(sub: np.ndarray) -> bool:
    """Whether the picture is soft enough that its PDQ quality is near the usable limit.

    Edge rows and columns without steps (flat bars) are left out: they are not blur.
    """
    pixels = sub.astype(np.int16)
    across, down = np.abs(np.diff(pixels, axis=1)), np.abs(np.diff(pixels, axis=0))
    rows = np.flatnonzero(across.mean(axis=1) > FLAT_STEP)
    cols = np.flatnonzero(down.mean(axis=0) > FLAT_STEP)
    if len(rows) < 2 or len(cols) < 2:
        return False
    top, bottom, left, right = rows[0], rows[-1], cols[0], cols[-1]
    detail = across[top : bottom + 1, left:right].mean() + down[top:bottom, left : right + 1].mean()
    return bool(SOFT_DETAIL[0] <= detail < SOFT_DETAIL[1])


def thumbnail(luma: np.ndarray, size: int = THUMB) -> np.ndarray:
    """A size x size box-filtered copy; halving first with PIL's reduce is much cheaper."""
    step = min(luma.shape) // (2 * size)
    if step >= 2:
        luma = luma[::step, ::step]  # decimating a box-filtered image hardly aliases PDQ
    image = Image.fromarray(np.ascontiguousarray(luma))
    return np.asarray(image.resize((size, size), Image.Resampling.BOX))


def _frames(path: Path) -> Iterator[tuple[float, np.ndarray]]:
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise FingerprintError(f"cannot open {path.name} as video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise FingerprintError(f"{path.name} has no video stream")
        stream = container.streams.video[0]
        # Frame threading: the next frames decode on another core while this one is hashed.
        stream.thread_type = "FRAME"
        stream.codec_context.thread_count = DECODE_THREADS
        base = stream.time_base or 0
        start = stream.start_time or 0
        try:
            for index, frame in enumerate(container.decode(stream)):
                if frame.pts is not None and base:
                    t = float((frame.pts - start) * base)
                else:
                    rate = float(stream.average_rate or 25)
                    t = index / rate
                yield t, _luma(frame)
        except av.FFmpegError as exc:
            raise FingerprintError(f"cannot decode {path.name}: {exc}") from exc


class VideoSampler:
    """Iterates over the kept frames of a video as (time, thumbnail); decodes it once.

    After iteration, `duration` (s) and `size` (width, height) describe the video.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_gap: float = MAX_GAP,
        dense_gap: float = DENSE_GAP,
        min_change: float = MIN_CHANGE,
        min_gap: float = 0.0,
        size: int = THUMB,
    ) -> None:
        self.path = path
        self.max_gap = max_gap
        self.dense_gap = dense_gap
        self.min_change = min_change
        self.min_gap = min_gap
        self.thumb_size = size
        self.duration = 0.0
        self.size = (0, 0)

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        last_probe: np.ndarray | None = None
        last_kept = -np.inf
        gap = self.max_gap  # until the next kept frame; shorter after a soft one
        previous: float | None = None
        interval = 0.04
        for t, luma in _frames(self.path):
            if last_probe is None:
                self.size = (luma.shape[1], luma.shape[0])
            if previous is not None and t > previous:
                interval = t - previous
            previous = t
            self.duration = max(self.duration, t + interval)
            if t - last_kept < self.min_gap:
                continue
            sub = sparse(luma)
            summary = probe(sub)
            changed = last_probe is None or np.abs(summary - last_probe).mean() >= self.min_change
            if changed or t - last_kept >= gap - 1e-6:
                last_probe, last_kept = summary, t
                # Softness changes slowly: judging it on kept frames only is cheap enough.
                gap = self.dense_gap if soft(sub) else self.max_gap
                yield t, thumbnail(luma, self.thumb_size)
        if last_probe is None:
            raise FingerprintError(f"{self.path.name}: no video frames could be decoded")
