"""Decoding and sampling: which frames of a video are worth hashing, as small greyscale.

Every frame is decoded (that is the floor of the cost), but the per-frame selection work is
a strided look at the luma plane, some tens of microseconds. A frame is kept when it differs
enough from the last kept one, or when `max_gap` seconds have passed, so any moment of the
video is within max_gap/2 of a kept frame. "Differs enough" is judged as PDQ would judge
it, by a 256-bit signature made like a PDQ hash of a 16x16 summary, and by plain change in
brightness: footage whose hash moves fast (a moving camera, detailed texture) is kept
densely, a static shot sparsely, so a still from anywhere lies within a few bits of a kept
frame. Where the picture is soft (out of focus, dim), PDQ's quality flickers around the
level below which a hash is not used; there frames are kept `dense_gap` apart, so the
usable ones among them are not skipped. Kept frames become square luma thumbnails (aspect
ratio is irrelevant: PDQ squeezes everything to 64x64) for border detection and hashing.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from contextlib import closing
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from testament.fingerprint.model import FingerprintError

# PyAV is imported where frames are decoded: a still query never needs it.
if TYPE_CHECKING:
    import av
    from av.video.reformatter import VideoReformatter

THUMB = 160  # side of the stored luma thumbnail of a kept frame
MAX_GAP = 0.5  # seconds between kept frames at most
MIN_CHANGE = 4.0  # mean absolute change (0-255) of the blurred probe that keeps a frame
HASH_CHANGE = 32  # signature bits changed since the last kept frame that keep a frame
DENSE_GAP = 0.0  # seconds between kept frames where the picture is soft: every frame
# Mean luma step between neighbouring pixels of the sparse sample where PDQ quality lies
# between about 25 and 65 (measured on out-of-focus footage): soft, but not flat.
SOFT_DETAIL = (2.5, 7.0)
SOFT_EVERY = 0.1  # seconds between judgements of softness
FLAT_STEP = 0.25  # mean step along a row or column of a bar (flat, bar a little noise)
# A query video needs enough frames to agree on an offset, not every change: a fifth of
# a second apart at most, on changes in brightness, keeps alignment exact (the stored side
# is dense) at a fraction of the work.
QUERY_MIN_GAP = 0.2
DECODE_THREADS = min(4, os.cpu_count() or 1)
AHEAD = 8  # decoded frames that may wait for the sampler (720p: 1.4 MB each, 4K: 12 MB)
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


@lru_cache(maxsize=8)
def _dct_rows(size: int) -> np.ndarray:
    """The lowest (at most _PROBE) rows of the orthonormal DCT-II matrix of a given size."""
    k, n = np.meshgrid(np.arange(min(size, _PROBE)), np.arange(size), indexing="ij")
    matrix = np.cos(np.pi * (2 * n + 1) * k / (2 * size)) * np.sqrt(2 / size)
    matrix[0] /= np.sqrt(2)
    return matrix


def signature(summary: np.ndarray) -> np.ndarray:
    """PDQ's recipe on the probe: lowest DCT coefficients, each against their median.

    PDQ keeps the lowest 16x16 DCT coefficients of a 64x64 picture, which is what a 16x16
    block summary holds too, so bit distances between two signatures follow the PDQ
    distances of the frames (correlation 0.88-0.97 on the benchmark footage), for about
    10 µs where a thumbnail and a PDQ hash take 0.3 ms.
    """
    rows, cols = summary.shape
    coefficients = (_dct_rows(rows) @ summary @ _dct_rows(cols).T).ravel()
    return coefficients > _median(coefficients)


def _differs(a: np.ndarray, b: np.ndarray, threshold: float) -> bool:
    """Whether two summaries of the same kind differ by `threshold` (mean or count)."""
    if a.shape != b.shape:
        return True  # the picture size changed mid-stream
    if a.dtype == bool:
        return np.count_nonzero(a != b) >= threshold
    return float(np.abs(a - b).mean()) >= threshold


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


def thumbnail(frame: av.VideoFrame, scaler: VideoReformatter, size: int = THUMB) -> np.ndarray:
    """A size x size area-averaged greyscale copy of a decoded frame.

    FFmpeg's scaler does it in half the time Pillow takes on a 720p frame, provided the
    same scaler serves every frame of a video (setting one up costs more than scaling).
    Both ranges are declared full so that luma values stay as decoded, as `_luma` reads them.
    """
    from av.video.reformatter import ColorRange, Interpolation

    small = scaler.reformat(
        frame,
        width=size,
        height=size,
        format="gray",
        interpolation=Interpolation.AREA,
        src_color_range=ColorRange.JPEG,
        dst_color_range=ColorRange.JPEG,
    )
    return small.to_ndarray()


def _median(values: np.ndarray) -> float:
    """The median (np.median is several times slower on a few hundred values)."""
    ordered = np.sort(values)
    return float(ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2


def _decoded(path: Path) -> Iterator[tuple[float, av.VideoFrame]]:
    import av

    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise FingerprintError(f"cannot open {path.name} as video: {exc}") from exc
    with container:
        if not container.streams.video:
            raise FingerprintError(f"{path.name} has no video stream")
        stream = container.streams.video[0]
        # Frame threading: several frames decode at once, on every core there is.
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
                yield t, frame
        except av.FFmpegError as exc:
            raise FingerprintError(f"cannot decode {path.name}: {exc}") from exc


def _frames(path: Path) -> Iterator[tuple[float, av.VideoFrame]]:
    """Decoded frames with their times, decoded on a thread of their own, AHEAD at most.

    FFmpeg decodes without holding the GIL, so frames keep coming while the caller hashes
    earlier ones; decoding on the caller's thread, its frame threads would stall for work
    whenever the caller is busy (measured: a tenth or more of the fingerprinting time).
    """
    ready: queue.Queue[tuple[float, av.VideoFrame] | Exception | None] = queue.Queue(AHEAD)
    stop = threading.Event()

    def put(item: tuple[float, av.VideoFrame] | Exception | None) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def decode() -> None:
        try:
            with closing(_decoded(path)) as frames:
                if not all(put(item) for item in frames):
                    return
        except Exception as exc:  # noqa: BLE001 - raised again on the caller's thread
            put(exc)
            return
        put(None)

    worker = threading.Thread(target=decode, name=f"decode {path.name}", daemon=True)
    worker.start()
    try:
        while (item := ready.get()) is not None:
            if isinstance(item, Exception):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


class VideoSampler:
    """Iterates over the kept frames of a video as (time, thumbnail); decodes it once.

    With `hash_change` None, frames are kept on changes in brightness alone (enough for a
    query). After iteration, `duration` (s) and `size` (width, height) describe the video.
    """

    def __init__(
        self,
        path: Path,
        *,
        max_gap: float = MAX_GAP,
        dense_gap: float = DENSE_GAP,
        min_change: float = MIN_CHANGE,
        hash_change: int | None = HASH_CHANGE,
        min_gap: float = 0.0,
        size: int = THUMB,
    ) -> None:
        self.path = path
        self.max_gap = max_gap
        self.dense_gap = dense_gap
        self.min_change = min_change
        self.hash_change = hash_change
        self.min_gap = min_gap
        self.thumb_size = size
        self.duration = 0.0
        self.size = (0, 0)

    def __iter__(self) -> Iterator[tuple[float, np.ndarray]]:
        from av.video.reformatter import VideoReformatter

        last_probe: np.ndarray | None = None
        bits = np.zeros(0, dtype=bool)  # signature of the last kept frame
        scaler = VideoReformatter()
        last_kept = -np.inf
        gap = self.max_gap  # until the next kept frame; shorter after a soft one
        judged = -np.inf  # when softness was last judged
        previous: float | None = None
        interval = 0.04
        for t, frame in _frames(self.path):
            luma = _luma(frame)
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
            current = bits if self.hash_change is None else signature(summary)
            keep = (
                last_probe is None
                or t - last_kept >= gap - 1e-6
                or _differs(summary, last_probe, self.min_change)
                or (self.hash_change is not None and _differs(current, bits, self.hash_change))
            )
            if keep:
                last_probe, bits, last_kept = summary, current, t
                # Softness changes slowly: judging it now and then on kept frames will do.
                if t - judged >= SOFT_EVERY:
                    judged = t
                    gap = self.dense_gap if soft(sub) else self.max_gap
                yield t, thumbnail(frame, scaler, self.thumb_size)
        if last_probe is None:
            raise FingerprintError(f"{self.path.name}: no video frames could be decoded")
