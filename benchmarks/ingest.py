"""Ingest throughput against `sha256sum` + `cp` of the same data, measured in the same run.

    python benchmarks/ingest.py [--size-mb 1024] [--images 1000] [--photos 50] [--work DIR]
    python benchmarks/ingest.py --csv-rows 1500

Prints wall times, the ratio to the baseline, and the ingest's peak RSS. The baseline
hashes and copies the same bytes with coreutils (the best of BASELINE_TRIES for each run);
the ingest also computes MD5 and SHA-512, fsyncs, catalogues, signs custody events and
probes the file.

`--csv-rows N` instead times a CSV list of N rows that all name one file (one post each,
as when a clip was re-posted N times) and prints rows per second: each row is a capture,
and its cost must not grow with the captures the file already has.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

BLOCK = 16 * 1024 * 1024


def make_large_file(path: Path, size_mb: int) -> None:
    """Incompressible bytes (repeating a 16 MiB random block; hashing cost is content-blind)."""
    block = os.urandom(BLOCK)
    with path.open("wb") as out:
        remaining = size_mb * 1024 * 1024
        while remaining > 0:
            out.write(block[: min(remaining, BLOCK)])
            remaining -= BLOCK


PHONE_PHOTO = (4032, 3024)  # a 12-megapixel phone camera's picture


def make_images(folder: Path, count: int, size: tuple[int, int] = (640, 480)) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(7)
    for i in range(count):
        small = rng.integers(0, 256, size=(24, 32, 3), dtype=np.uint8)
        image = Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)
        image.save(folder / f"image{i:04}.jpg", quality=85)


def timed(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of one child process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    _pid, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"command failed: {' '.join(command)}")
    return elapsed, usage.ru_maxrss * 1024


def baseline(source: Path, target: Path) -> float:
    """sha256sum of the data, then cp of the data (a file or a folder's files)."""
    files = sorted(source.iterdir()) if source.is_dir() else [source]
    target.mkdir(parents=True)
    hash_time, _ = timed(["sha256sum", *map(str, files)])
    copy_time, _ = timed(["cp", "-r", *map(str, files), str(target)])
    return hash_time + copy_time


def ingest(source: Path, home: Path) -> tuple[float, int]:
    env = os.environ | {"TESTAMENT_HOME": str(home)}
    testament = [sys.executable, "-m", "testament"]
    subprocess.run([*testament, "init"], env=env, check=True, stdout=subprocess.DEVNULL)
    return timed([*testament, "ingest", str(source)], env)


def make_list(folder: Path, rows: int) -> Path:
    """A CSV list whose `rows` rows name one small image, each seen in another post."""
    folder.mkdir(parents=True)
    make_images(folder / "media", 1)
    lines = ["file,url"] + [f"media/image0000.jpg,https://t.me/demo/{i}" for i in range(rows)]
    path = folder / "list.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def measure_rows(rows: int, work: Path, repeats: int) -> None:
    listing = make_list(work / "rows", rows)
    best = float("inf")
    for run in range(repeats):
        best = min(best, ingest(listing, work / f"home-rows-{run}")[0])
        shutil.rmtree(work / f"home-rows-{run}")
    print(f"{rows} rows naming one file   {best:7.2f} s   {rows / best:7.1f} rows/s", flush=True)


# The baseline of many small files takes 0.15-1 s from one run to the next on this machine
# (copying 1,000 files right after a run wrote and removed thousands): it is cheap, so it
# is taken this many times for each run of the ingest, and the best counts.
BASELINE_TRIES = 5


def measure(label: str, source: Path, work: Path, repeats: int) -> None:
    best_base, best_ours, peak = float("inf"), float("inf"), 0
    for run in range(repeats):
        for trial in range(BASELINE_TRIES):
            copy = work / f"copy-{label}-{run}-{trial}"
            best_base = min(best_base, baseline(source, copy))
            shutil.rmtree(copy)
        seconds, rss = ingest(source, work / f"home-{label}-{run}")
        best_ours, peak = min(best_ours, seconds), max(peak, rss)
        shutil.rmtree(work / f"home-{label}-{run}")
    print(
        f"{label:<22} baseline {best_base:7.2f} s   testament {best_ours:7.2f} s   "
        f"ratio {best_ours / best_base:5.2f}x   peak RSS {peak / 2**20:6.1f} MiB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs for each side")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument(
        "--photos", type=int, default=0, help="also N photos of a phone camera's 12 megapixels"
    )
    parser.add_argument("--csv-rows", type=int, help="time a list of N rows naming one file")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="testament-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        if args.csv_rows:
            print(f"ingest benchmark: best of {args.repeats} runs, {os.cpu_count()} cores")
            measure_rows(args.csv_rows, work, args.repeats)
            return
        large = work / "large.bin"
        make_large_file(large, args.size_mb)
        images = work / "images"
        make_images(images, args.images)
        print(f"ingest benchmark: best of {args.repeats} runs, {os.cpu_count()} cores")
        measure(f"{args.size_mb} MiB file", large, work, args.repeats)
        measure(f"{args.images} small images", images, work, args.repeats)
        if args.photos:
            photos = work / "photos"
            make_images(photos, args.photos, PHONE_PHOTO)
            measure(f"{args.photos} 12 MP photos", photos, work, args.repeats)
    finally:
        if args.work is None:
            shutil.rmtree(work)


if __name__ == "__main__":
    main()
