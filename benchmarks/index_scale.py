"""Index at scale: a synthetic 10-million-hash index built through ``HashIndex``.

    python -m benchmarks.index_scale [--hashes 10000000 | --quick]

Synthetic assets imitate videos: runs of near-identical 256-bit hashes (one random base per
shot, each frame a few bits away from it), about 300 hashes per asset. Measures build time,
resident memory per indexed hash, single-core still-query latency through ``match`` and the
recall of planted near-duplicates (true frames with 10-30 bits flipped).
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

from testament.fingerprint import Fingerprint, HashIndex, match

HASH_BYTES = 32
FRAMES_PER_ASSET = (200, 400)
SHOT_FRAMES = (10, 60)
FRAME_JITTER_BITS = 12
FRAME_SECONDS = 0.5
SEED = 20201110
# Rows of real still queries: a JPEG's own (regions, mirrored) and a player screenshot's
# own plus its three pictures reshaped 48 ways (looked up when its own find nothing close).
STILL_ROWS = 8
HARD_STILL_ROWS = 27 + 3 * 48


def rss_bytes() -> int:
    """Resident set size of this process."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmRSS:"))
    return int(line.split()[1]) * 1024


def flip_bits(hashes: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Copy of ``hashes`` with ``counts[i]`` distinct random bits flipped in row i."""
    out = hashes.copy()
    for row, count in enumerate(counts):
        bits = rng.choice(HASH_BYTES * 8, int(count), replace=False)
        np.bitwise_xor.at(out[row], bits // 8, (1 << (bits % 8)).astype(np.uint8))
    return out


def synthetic_asset(asset_id: int) -> Fingerprint:
    """A reproducible video-like fingerprint: shots of near-identical frame hashes."""
    rng = np.random.default_rng((SEED, asset_id))
    frames = int(rng.integers(*FRAMES_PER_ASSET))
    shot_of_frame = np.repeat(np.arange(frames), rng.integers(*SHOT_FRAMES, size=frames))[:frames]
    bases = rng.integers(0, 256, size=(shot_of_frame[-1] + 1, HASH_BYTES), dtype=np.uint8)
    jitter = rng.integers(0, 256, size=(frames, HASH_BYTES), dtype=np.uint8)
    keep = rng.random((frames, HASH_BYTES * 8)) < FRAME_JITTER_BITS / (HASH_BYTES * 8) / 2
    noise = np.packbits(keep, axis=1) & jitter
    hashes = bases[shot_of_frame] ^ noise
    times = np.arange(frames, dtype=np.float64) * FRAME_SECONDS
    return Fingerprint(
        "video", frames * FRAME_SECONDS, times, hashes, np.full(frames, 100, np.uint8)
    )


class StoredAssets(dict[int, Fingerprint]):
    """The assets' stored fingerprints, made when first asked for (the catalog's part)."""

    def __missing__(self, asset_id: int) -> Fingerprint:
        self[asset_id] = synthetic_asset(asset_id)
        return self[asset_id]


@dataclass
class Built:
    """The index and what building it cost."""

    index: HashIndex
    assets: int
    seconds: float
    rss_delta: int


def build(target_hashes: int) -> Built:
    """Build, as `testament index rebuild` does, an index of ``target_hashes`` hashes."""
    gc.collect()
    before = rss_bytes()
    assets = 0

    def synthetic() -> Iterator[tuple[int, Fingerprint]]:
        nonlocal assets
        hashes = 0
        while hashes < target_hashes:
            fingerprint = synthetic_asset(assets)
            yield assets, fingerprint
            hashes += len(fingerprint)
            assets += 1

    start = time.perf_counter()
    index = HashIndex.build(synthetic())
    seconds = time.perf_counter() - start
    gc.collect()
    return Built(index, assets, seconds, rss_bytes() - before)


def _loaded_rss(folder: str) -> tuple[int, int]:
    """Hashes and RSS growth of a fresh process that loads the saved index."""
    gc.collect()
    before = rss_bytes()
    loaded = HashIndex.load(Path(folder))
    gc.collect()
    return len(loaded), rss_bytes() - before


def loaded_rss(built: Built, folder: Path) -> tuple[int, int]:
    """Save the index and measure the memory it takes once loaded by a new process."""
    built.index.save(folder)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(_loaded_rss, str(folder)).result()


def still_query(
    asset_id: int, frame: int, flips: int, rng: np.random.Generator, rows: int = 1
) -> Fingerprint:
    """One frame of an asset with ``flips`` bits flipped, as an image fingerprint.

    With ``rows`` above 1, random hashes stand for the other rows a real still query looks
    up (its candidate regions, mirrored, and in a hard case its reshaped pictures): they
    cost a lookup each and find nothing.
    """
    original = synthetic_asset(asset_id).hashes[frame : frame + 1]
    hashes = flip_bits(original, np.array([flips]), rng)
    others = rng.integers(0, 256, size=(rows - 1, HASH_BYTES), dtype=np.uint8)
    hashes = np.concatenate([hashes, others])
    return Fingerprint("image", None, np.zeros(1), hashes, np.full(len(hashes), 100, np.uint8))


def probe(built: Built, queries: int, rows: int = 1) -> tuple[np.ndarray, float]:
    """Latencies (seconds) of planted still queries and the share that found their asset."""
    faiss.omp_set_num_threads(1)
    rng = np.random.default_rng(SEED + 1)
    stored = StoredAssets()
    latencies, found = [], 0
    for _ in range(queries):
        asset_id = int(rng.integers(built.assets))
        frame = int(rng.integers(FRAMES_PER_ASSET[0]))
        query = still_query(asset_id, frame, int(rng.integers(10, 31)), rng, rows)
        stored[asset_id]  # read before the clock starts, as the catalog holds it ready
        start = time.perf_counter()
        matches = match(query, built.index, stored)
        latencies.append(time.perf_counter() - start)
        found += any(m.asset_id == asset_id for m in matches)
    return np.array(latencies), found / queries


def main() -> None:
    """Build, measure, print a Markdown summary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hashes", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="500,000 hashes")
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument(
        "--work", type=Path, default=Path("benchmarks/results"), help="for the saved index"
    )
    args = parser.parse_args()
    target = 500_000 if args.quick else args.hashes
    started = os.getloadavg()[0]
    built = build(target)
    n = len(built.index)
    print(f"built {n:,} hashes ({built.assets:,} assets) in {built.seconds:.1f} s")
    latencies, recall = probe(built, args.queries)
    typical, _ = probe(built, args.queries, STILL_ROWS)
    hard, _ = probe(built, args.queries, HARD_STILL_ROWS)
    with tempfile.TemporaryDirectory(dir=args.work) as folder:
        loaded_hashes, loaded = loaded_rss(built, Path(folder))
    ms = latencies * 1000
    print("| measure | value |\n|---|---|")
    print(f"| hashes indexed | {n:,} in {built.assets:,} synthetic assets |")
    print(f"| build time | {built.seconds:.1f} s ({n / built.seconds:,.0f} hashes/s) |")
    print(f"| RAM per hash (RSS delta / n) | {built.rss_delta / n:.1f} bytes |")
    print(f"| RAM per hash, index loaded from disk | {loaded / loaded_hashes:.1f} bytes |")
    print(f"| index's own estimate | {built.index.memory_bytes() / n:.1f} bytes |")
    for label, values in (
        ("still query through match(), 1 thread, one hash", ms),
        (f"... {STILL_ROWS} hashes (a JPEG still's rows)", typical * 1000),
        (f"... {HARD_STILL_ROWS} hashes (a player screenshot, reshaped)", hard * 1000),
    ):
        p50, p95 = np.median(values), np.percentile(values, 95)
        print(f"| {label} | median {p50:.2f} ms, p95 {p95:.2f} ms |")
    print(
        f"| planted near-duplicates found (10-30 bits flipped) | {recall:.1%} of {args.queries} |"
    )
    print(f"| load average at the start, at the end | {started:.1f}, {os.getloadavg()[0]:.1f} |")


if __name__ == "__main__":
    main()
