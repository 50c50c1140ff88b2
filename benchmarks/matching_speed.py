"""Matching speed, as ratios measured in one run on the same machine.

    python -m benchmarks.matching_speed [--work benchmarks/results/speed] [--filler 1000000]

1. Fingerprinting a 60-second 1280x720 H.264 video against the floor: decoding all its
   frames with PyAV on one thread.
2. Matching a 60-second video query (a re-encoded 854x480 copy) against an index of the
   corpus plus synthetic filler: the time beyond decoding the query file itself, on the
   hashes alone and with a frame reader as the catalog passes one (candidates the hashes
   cannot place are then re-checked on pixels, which costs decoding).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import av
from benchmarks.index_scale import synthetic_asset
from benchmarks.matching.media import read_frames, write_video
from benchmarks.matching.suite import CORPUS, source_path
from PIL import Image

from testament.fingerprint import Fingerprint, HashIndex, fingerprint_file, match
from testament.fingerprint.local import frames_at

LONG_SOURCES = (
    "chair-orig-22-sd-bar",
    "pattern-longer-no-bar",
    "doorknob-hd-no-bar",
    "pattern-hd-no-bar",
    "chair-19-sd-bar",
)
SIZE, FPS, SECONDS = (1280, 720), 30, 60.0
FILLER_ID = 1_000_000


def _fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale into ``size`` keeping the aspect ratio, on black."""
    scale = min(size[0] / image.width, size[1] / image.height)
    picture = image.resize((round(image.width * scale), round(image.height * scale)))
    canvas = Image.new("RGB", size)
    canvas.paste(picture, ((size[0] - picture.width) // 2, (size[1] - picture.height) // 2))
    return canvas


def _long_frames(size: tuple[int, int]) -> Iterator[Image.Image]:
    count = 0
    while True:
        for name in LONG_SOURCES:
            for frame in read_frames(source_path(name)):
                if count >= SECONDS * FPS:
                    return
                count += 1
                yield _fit(frame.image, size)


def make_videos(work: Path) -> tuple[Path, Path]:
    """The 60 s 720p master (corpus scenes back to back) and an 854x480 CRF 30 copy."""
    master, copy = work / "master-720p.mp4", work / "query-480p.mp4"
    if not master.exists():
        write_video(master, _long_frames(SIZE), FPS)
    if not copy.exists():
        write_video(copy, (_fit(f.image, (854, 480)) for f in read_frames(master)), FPS, crf=30)
    return master, copy


def decode_all(path: Path) -> int:
    """Decode every video frame with PyAV on one thread; the number of frames."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.thread_count = 1
        return sum(1 for _ in container.decode(stream))


def best_of(runs: int, work: Callable[[], object]) -> float:
    """Fastest wall time of ``runs`` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return min(times)


def build_index(master: Path, filler: int) -> tuple[HashIndex, dict[int, Fingerprint]]:
    """Every corpus video and the master, plus synthetic filler assets up to ``filler``."""
    index, fingerprints = HashIndex(), {}
    for asset_id, path in enumerate([master, *sorted(CORPUS.glob("*.mp4"))]):
        fingerprint = fingerprint_file(path)
        index.add(asset_id, fingerprint)
        fingerprints[asset_id] = fingerprint
    asset_id = FILLER_ID
    while len(index) < filler:
        fingerprint = synthetic_asset(asset_id)
        index.add(asset_id, fingerprint)
        fingerprints[asset_id] = fingerprint
        asset_id += 1
    return index, fingerprints


def main() -> None:
    """Measure and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("benchmarks/results/speed"))
    parser.add_argument("--filler", type=int, default=1_000_000, help="hashes in the index")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    started = os.getloadavg()[0]
    master, query = make_videos(args.work)
    decode = best_of(args.runs, lambda: decode_all(master))
    hashing = best_of(args.runs, lambda: fingerprint_file(master))
    kept = len(fingerprint_file(master))
    index, fingerprints = build_index(master, args.filler)
    query_decode = best_of(args.runs, lambda: decode_all(query))
    matching = best_of(args.runs, lambda: match(query, index, fingerprints))
    found = {m.asset_id: m for m in match(query, index, fingerprints)}
    master_match = found[0].relation if 0 in found else "not found"
    paths = [master, *sorted(CORPUS.glob("*.mp4"))]

    def frames(asset_id: int, times: list[float]) -> list | None:
        return frames_at(paths[asset_id], times) if asset_id < len(paths) else None

    with_frames = best_of(args.runs, lambda: match(query, index, fingerprints, frames))
    found_framed = {m.asset_id: m for m in match(query, index, fingerprints, frames)}
    framed_match = found_framed[0].relation if 0 in found_framed else "not found"
    print("| measure | value |\n|---|---|")
    print(f"| decode 60 s 720p H.264, 1 thread (floor) | {decode:.2f} s |")
    print(f"| fingerprint_file, same video | {hashing:.2f} s ({hashing / decode:.2f}x the floor) |")
    print(f"| frames it keeps and hashes | {kept:,} of {decode_all(master):,} |")
    print(f"| index for the query | {len(index):,} hashes ({len(fingerprints):,} assets) |")
    print(f"| decode the 60 s 480p query, 1 thread | {query_decode:.2f} s |")
    print(f"| match(query) | {matching:.2f} s, {matching - query_decode:+.2f} s beyond decoding |")
    print(f"| the master, as matched | {master_match} ({len(found)} assets matched) |")
    beyond = with_frames - query_decode
    print(f"| match(query, frames), as the catalog does | {with_frames:.2f} s, {beyond:+.2f} s |")
    print(f"| the master, as matched so | {framed_match} ({len(found_framed)} assets matched) |")
    print(f"| load average at the start, at the end | {started:.1f}, {os.getloadavg()[0]:.1f} |")


if __name__ == "__main__":
    main()
