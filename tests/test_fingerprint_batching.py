"""Work done in batches, chunks or one pass gives what it gives done one piece at a time.

Fingerprinting hashes kept frames HASH_BATCH at a time and takes the border statistics a
chunk of frames at a time (for speed and memory); a stored fingerprint must not depend on
that: an asset fingerprinted again, by any release, must come out the same. The pixel
check reads an asset's frames in one pass forward; each must still be the nearest.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from testament.fingerprint import fingerprint_file
from testament.fingerprint.borders import (
    BAR_FLICKER,
    STATS_CHUNK,
    _fill_extent,
    _line_stats,
    _median_frame,
    crop,
)
from testament.fingerprint.extract import HASH_BATCH, cropped_frames, stored_hashes
from testament.fingerprint.frames import VideoSampler
from testament.fingerprint.local import frames_at
from testament.fingerprint.query import analyze_file_for_ingest
from tests.media import make_video


@pytest.fixture(scope="module")
def letterboxed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A moving scene long enough for several hash batches, inside black bars."""
    import av

    plain = make_video(tmp_path_factory.mktemp("batching") / "plain.mp4", seconds=12.0)
    path = plain.with_name("letterboxed.mp4")
    with av.open(str(plain)) as source, av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for frame in source.decode(video=0):
            picture = np.zeros((240, 320, 3), dtype=np.uint8)
            picture[30:210] = frame.to_ndarray(format="rgb24")
            for packet in stream.encode(av.VideoFrame.from_ndarray(picture, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def test_a_fingerprint_hashed_in_batches_is_each_frames_own(letterboxed: Path) -> None:
    stored = fingerprint_file(letterboxed)
    one_by_one = [
        (t, stored_hashes(crop(thumb, box)))
        for t, thumb, box in cropped_frames(VideoSampler(letterboxed))
    ]
    assert len(one_by_one) > 2 * HASH_BATCH and stored.crop is not None
    assert np.array_equal(stored.times, [t for t, _ in one_by_one])
    assert np.array_equal(stored.hashes, np.stack([h for _, (h, _, _) in one_by_one]))
    assert np.array_equal(stored.quality, [q for _, (_, q, _) in one_by_one])
    assert np.array_equal(stored.inner, np.stack([c for _, (_, _, c) in one_by_one]))
    at_ingest, _ = analyze_file_for_ingest(letterboxed)
    for name in ("times", "hashes", "quality", "inner"):
        assert np.array_equal(getattr(at_ingest, name), getattr(stored, name)), name
    assert at_ingest.crop == stored.crop


def _frames(count: int) -> np.ndarray:
    """Noise with flat rows and columns, some of them still over time, as bars are."""
    rng = np.random.default_rng(5)
    frames = rng.integers(0, 256, (count, 36, 44), dtype=np.uint8)
    frames[:, :5] = 16
    frames[:, 5:, -3:] = rng.integers(0, 3, (count, 31, 3), dtype=np.uint8)
    return frames


@pytest.mark.parametrize("count", [1, 2, STATS_CHUNK, STATS_CHUNK + 1, 3 * STATS_CHUNK + 7])
def test_line_statistics_a_chunk_at_a_time_are_the_whole_stacks(count: int) -> None:
    frames = _frames(count)
    pixels = frames.astype(np.float32)
    change = np.abs(np.diff(pixels, axis=0))
    stats = _line_stats(frames)
    assert np.array_equal(stats.row_std, pixels.std(axis=2))
    assert np.array_equal(stats.row_mean, pixels.mean(axis=2))
    assert np.array_equal(stats.col_std, pixels.std(axis=1))
    assert np.array_equal(stats.col_mean, pixels.mean(axis=1))
    assert np.array_equal(stats.still_rows, change.mean(axis=2) <= BAR_FLICKER)
    assert np.array_equal(stats.still_cols, change.mean(axis=1) <= BAR_FLICKER)


@pytest.mark.parametrize("count", [1, 4, 5, 3 * STATS_CHUNK + 7])
def test_a_median_frame_and_a_bars_extent_are_the_whole_stacks(count: int) -> None:
    frames = _frames(count)
    median = _median_frame(frames)
    expected = np.median(frames.astype(np.float32), axis=0)
    assert median.dtype == expected.dtype and np.array_equal(median, expected)
    weights = np.full(count, 1.0 / count)
    strip = frames[:, :12].astype(np.float64)
    total, squares = np.cumsum(strip.sum(axis=2), axis=1), np.cumsum((strip**2).sum(axis=2), 1)
    lines = np.arange(1, 13) * strip.shape[2]
    spread = np.sqrt(np.maximum(squares / lines - (total / lines) ** 2, 0.0))
    one_fill = weights @ (spread <= 1.0) >= 0.5
    whole = 12 if one_fill[9] else int(np.flatnonzero(~one_fill)[0])
    assert _fill_extent(frames, 12, weights) == whole == 5


def _keyframes_every(path: Path, seconds: float, out: Path) -> Path:
    """The video encoded again with a keyframe every `seconds` (phones: 1 s; web re-encodes
    with FFmpeg's defaults: up to 10 s)."""
    import av

    with av.open(str(path)) as source, av.open(str(out), "w") as sink:
        stream = sink.add_stream("libx264", rate=25, options={"g": str(round(25 * seconds))})
        stream.width, stream.height, stream.pix_fmt = 320, 240, "yuv420p"
        for frame in source.decode(video=0):
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                sink.mux(packet)
        for packet in stream.encode():
            sink.mux(packet)
    return out


@pytest.mark.parametrize("keyframes", [0.5, 6.0])
def test_frames_at_times_are_the_nearest_decoded_in_one_pass(
    letterboxed: Path, keyframes: float
) -> None:
    """Frames are decoded on or sought to, by how far the next time is; either way each is
    the nearest frame there is, as decoding the whole file shows."""
    import av

    path = _keyframes_every(letterboxed, keyframes, letterboxed.with_name(f"g{keyframes}.mp4"))
    with av.open(str(path)) as container:
        decoded = [(float(f.time), f.to_ndarray(format="rgb24")) for f in container.decode(video=0)]
    times = [0.0, 0.3, 0.31, 1.0, 2.2, 2.2, 5.5, 5.9, 9.04, 11.3, 11.99, 30.0]
    found = frames_at(path, times, video=True)
    assert found is not None and len(found) == len(times)
    for t, frame in zip(times, found, strict=True):
        nearest = min(decoded, key=lambda item: abs(item[0] - t))
        assert np.array_equal(frame, nearest[1]), t
