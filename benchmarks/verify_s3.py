"""`testament verify` of a store whose blobs are in object storage, against boto3 alone.

    python -m benchmarks.verify_s3 [--gb 10] [--object-mb 256] [--work DIR]
    python -m benchmarks.verify_s3 --quick          # 0.5 GB in 64 MB objects

Starts a SeaweedFS server (the `weed` of the test extra), ingests N GB of incompressible
objects into a store with TESTAMENT_BLOB_URL=s3://…, then times, each in a child process
whose peak RSS is taken from wait4:

- the baseline: every object of the bucket read to the end with boto3 alone, in 1 MiB
  reads, once one object at a time and once four at a time (verify reads four at once);
- `testament verify --json`: the custody log, the catalog, and every blob re-hashed.

The ratio is verify's time over the faster baseline. The disk must hold N GB of objects
plus 2 GB; with less free space the run shrinks to what fits (at least 2 GB) and says so.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tests.services import SeaweedFS, start_seaweedfs

from testament import config
from testament.collect.ingest import Ingest, default_steps
from testament.collect.items import Item, Sighting
from testament.store import init_store

GB = 1000**3
MB = 1000**2
MARGIN = 2 * GB

# Read every object of the prefix with boto3 alone, `threads` at a time, in 1 MiB reads.
BASELINE = """
import sys
from concurrent.futures import ThreadPoolExecutor
from testament.locker.s3store import make_client
bucket, prefix, endpoint, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
client = make_client(endpoint)
keys = [item["Key"]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])]

def read(key):
    body, total = client.get_object(Bucket=bucket, Key=key)["Body"], 0
    while chunk := body.read(1024 * 1024):
        total += len(chunk)
    return total

with ThreadPoolExecutor(threads) as pool:
    print(sum(pool.map(read, keys)))
"""


# Runs `python -m testament ...` or a script given as text, then writes the process's own
# peak RSS (VmHWM) to a file. wait4's ru_maxrss would count the parent's pages at fork.
PEAK = """
import atexit, os, runpy, sys
def peak():
    with open("/proc/self/status") as status, open(os.environ["PEAK_FILE"], "w") as out:
        out.write(next(line.split()[1] for line in status if line.startswith("VmHWM")))
atexit.register(peak)
kind, target, *rest = sys.argv[1:]
sys.argv = [target, *rest]
if kind == "module":
    runpy.run_module(target, run_name="__main__", alter_sys=True)
else:
    exec(compile(target, "<baseline>", "exec"), {"__name__": "__main__"})
"""


def timed(command: list[str], env: dict[str, str], work: Path) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (bytes) and standard output of one child process."""
    peak_file = work / "peak"
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *command],
        env=env | {"PEAK_FILE": str(peak_file)},
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"command failed ({done.returncode}): {command[:2]}")
    return elapsed, int(peak_file.read_text()) * 1024, done.stdout


def planned_bytes(wanted: int, work: Path) -> tuple[int, str | None]:
    """What the disk allows: the bytes to store, and a note when that is less than asked."""
    free = shutil.disk_usage(work).free
    fits = free - MARGIN
    if fits >= wanted:
        return wanted, None
    if fits < 2 * GB:
        raise SystemExit(f"only {free / GB:.1f} GB free at {work}: at least 4 GB are needed")
    return (
        fits,
        f"{free / GB:.1f} GB free at {work}: measuring {fits / GB:.1f} GB, not {wanted / GB:.1f}",
    )


def fill(server: SeaweedFS, home: Path, url: str, total: int, object_size: int) -> int:
    """Ingest `total` bytes as objects of `object_size`; returns how many objects."""
    os.environ.update(server.env)
    settings = config.resolve(
        home=home,
        database_url=f"sqlite:///{home / 'catalog.sqlite'}",
        blob_url=url,
        actor="benchmark",
    )
    store, _ = init_store(settings)
    rng = np.random.default_rng(11)
    count = -(-total // object_size)
    source = home / "object.bin"
    started = time.perf_counter()
    try:
        for i in range(count):
            size = min(object_size, total - i * object_size)
            with source.open("wb") as out:
                for start in range(0, size, 16 * MB):
                    out.write(rng.bytes(min(16 * MB, size - start)))
            sighting = Sighting(method="files", filename=f"object-{i:04}.bin")
            Ingest(store, steps=default_steps(store)).run(
                [Item(sighting.filename or "", sighting, path=source)]
            )
            print(f"  stored {i + 1}/{count}", end="\r", file=sys.stderr, flush=True)
    finally:
        source.unlink(missing_ok=True)
        store.close()
    elapsed = time.perf_counter() - started
    print(f"ingested {total / GB:.2f} GB in {elapsed:.0f} s ({total / MB / elapsed:.0f} MB/s)")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=10.0, help="bytes to store (default 10)")
    parser.add_argument("--object-mb", type=int, default=256, help="size of each object")
    parser.add_argument("--quick", action="store_true", help="0.5 GB in 64 MB objects")
    parser.add_argument("--work", type=Path, default=None, help="folder for the server's data")
    args = parser.parse_args()
    wanted = int((0.5 if args.quick else args.gb) * GB)
    object_size = (64 if args.quick else args.object_mb) * MB
    work = Path(tempfile.mkdtemp(prefix="verify-s3-", dir=args.work))
    total, note = planned_bytes(wanted, work)
    if note:
        print(f"note: {note}")
    server = start_seaweedfs(work)
    try:
        url = server.new_url("bench")
        prefix = url.split("/", 3)[3]
        count = fill(server, work / "home", url, total, object_size)
        env = (
            os.environ
            | server.env
            | {
                config.HOME_ENV: str(work / "home"),
                config.DATABASE_ENV: f"sqlite:///{work / 'home' / 'catalog.sqlite'}",
                config.BLOBS_ENV: url,
            }
        )
        read = ["code", BASELINE, server.bucket, prefix, server.endpoint]
        runs: dict[str, tuple[float, int]] = {}
        for name, command in [
            ("boto3 read, 1 at a time", [*read, "1"]),
            ("boto3 read, 4 at a time", [*read, "4"]),
            ("testament verify", ["module", "testament", "verify", "--json"]),
        ]:
            seconds, rss, out = timed(command, env, work)
            runs[name] = (seconds, rss)
            if name == "testament verify":
                report = json.loads(out)
                assert report["intact"] and report["blobs_checked"] == count, report
                assert report["bytes_checked"] == total, report
            else:
                assert int(out) == total, (out, total)
        fastest = min(runs["boto3 read, 1 at a time"][0], runs["boto3 read, 4 at a time"][0])
        print(f"\n{total / GB:.2f} GB in {count} objects of {object_size / MB:.0f} MB")
        print("| run | seconds | MB/s | peak RSS |\n|---|---|---|---|")
        for name, (seconds, rss) in runs.items():
            print(
                f"| {name} | {seconds:.1f} | {total / MB / seconds:.0f} | {rss / 2**20:.0f} MiB |"
            )
        verify_seconds, verify_rss = runs["testament verify"]
        print(
            f"\nverify / fastest boto3 read: {verify_seconds / fastest:.2f}x (target <= 1.3x); "
            f"verify peak RSS {verify_rss / 2**20:.0f} MiB (target <= 200 MB)"
        )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
