"""Ingest of short videos with 1 and with 2 workers (PostgreSQL, Redis, SeaweedFS), and embedded.

    python -m benchmarks.workers [--videos 200] [--seconds 10] [--workers 1 2] [--work DIR]
                                 [--blobs s3|local] [--no-embedded]

Makes N videos (640×360, H.264, a seeded moving scene each, cached in the work folder),
then times `testament ingest FOLDER` in the embedded default (SQLite, local folder, every
step in the ingest process) and `testament ingest FOLDER --wait` against a fresh
PostgreSQL database, a Redis broker (a database of its own) and a SeaweedFS bucket (the
`weed` of the test extra; `--blobs local` uses a local folder instead) with one
`testament worker --concurrency K` for each K. Prints items per minute and the speed-up
of each K over the first, the load average, and the CPU time a video took in the
workers, the ingest and the services (robust to load, unlike the times). Every run starts
from an empty store and an empty Redis database (emptied again after), and ends with `verify`.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np

POSTGRES_ADMIN = os.environ.get(
    "TESTAMENT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
WIDTH, HEIGHT, FPS = 640, 360, 25


def make_video(path: Path, seconds: float, seed: int) -> None:
    """A moving pattern of random blocks over a seeded gradient: distinct, cheap to encode."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, size=(9, 16, 3), dtype=np.uint8)
    tiles = np.kron(base, np.ones((40, 40, 1), dtype=np.uint8))
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        for i in range(int(seconds * FPS)):
            shift = (i * 3) % WIDTH
            frame = np.roll(tiles, shift, axis=1)
            frame[(i * 2) % HEIGHT :, : WIDTH // 4] //= 2
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def videos(folder: Path, count: int, seconds: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for seed in range(count):
        path = folder / f"clip{seed:04}.mp4"
        if not path.exists():
            partial = path.with_suffix(".part")
            make_video(partial, seconds, seed)
            partial.rename(path)
    for extra in sorted(folder.glob("clip*.mp4"))[count:]:
        extra.unlink()
    return folder


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "testament", *args], env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"testament {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done


def timed_ingest(folder: Path, env: dict[str, str], wait: bool) -> float:
    started = time.perf_counter()
    run(["ingest", str(folder), *(["--wait"] if wait else [])], env)
    return time.perf_counter() - started


@contextmanager
def postgres_database() -> Iterator[str]:
    import psycopg

    name = f"testament_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{POSTGRES_ADMIN.rsplit('/', 1)[0]}/{name}"
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def redis_database() -> Iterator[str]:
    """A Redis database with no keys in it (this run's broker), emptied again afterwards.

    A run leaves the broker's bindings and results behind; emptying its database at the
    end keeps the 15 from running out over many runs.
    """
    import redis

    for db in random.sample(range(1, 16), 15):
        client = redis.Redis(host="127.0.0.1", port=6379, db=db)
        if client.dbsize() == 0:
            try:
                yield f"redis://127.0.0.1:6379/{db}"
            finally:
                client.flushdb()
            return
    raise SystemExit("no empty Redis database to use: all 15 (1-15) hold keys")


def children_cpu() -> float:
    """CPU seconds used by this script's finished child processes (and theirs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def services_cpu(pids: list[int]) -> float:
    """CPU seconds so far of PostgreSQL (with its finished backends), Redis and `pids`.

    PostgreSQL and Redis serve the whole machine: their figure includes other work's use.
    """
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            pid, rest = stat.read_text().split(" (", 1)
        except OSError:
            continue
        name, _, after = rest.rpartition(") ")
        if name in ("postgres", "redis-server") or int(pid) in pids:
            used = after.split()[11:15]  # utime, stime, and those of reaped children
            total += sum(int(value) for value in used) / tick
    return total


@contextmanager
def worker(env: dict[str, str], concurrency: int, log: Path) -> Iterator[None]:
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "testament", "worker", "--concurrency", str(concurrency)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        while b" ready." not in log.read_bytes():
            if process.poll() is not None:
                raise SystemExit(f"worker failed:\n{log.read_text()[-2000:]}")
            time.sleep(0.2)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--blobs", choices=["s3", "local"], default="s3")
    parser.add_argument("--work", type=Path, help="scratch folder (videos are kept there)")
    parser.add_argument(
        "--no-embedded", action="store_true", help="skip the embedded default's run"
    )
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="testament-workers-"))
    made = time.perf_counter()
    folder = videos(work / f"videos-{args.seconds:g}s", args.videos, args.seconds)
    print(
        f"{args.videos} videos of {args.seconds:g} s, {WIDTH}x{HEIGHT}: made or found in "
        f"{time.perf_counter() - made:.0f} s; {os.cpu_count()} cores",
        flush=True,
    )
    base = os.environ | {"TESTAMENT_ACTOR": "bench"}
    rates: dict[str, float] = {}

    if not args.no_embedded:
        home = work / "home-embedded"
        shutil.rmtree(home, ignore_errors=True)
        env = base | {"TESTAMENT_HOME": str(home)}
        env.pop("TESTAMENT_QUEUE_URL", None)
        run(["init"], env)
        before = children_cpu()
        seconds = timed_ingest(folder, env, wait=False)
        used = (children_cpu() - before) / args.videos * 1000
        rates["embedded"] = args.videos / seconds * 60
        print(
            f"embedded default (SQLite, local folder)    {seconds:8.1f} s  "
            f"{rates['embedded']:7.1f} items/min  {os.getloadavg()[0]:.1f} load  "
            f"CPU a video {used:.0f} ms",
            flush=True,
        )
        run(["verify"], env)

    server = None
    if args.blobs == "s3":
        from tests.services import start_seaweedfs

        (work / "seaweedfs").mkdir(exist_ok=True)
        server = start_seaweedfs(work / "seaweedfs")
    weed = [server.process.pid] if server is not None else []
    try:
        for count in args.workers:
            home = work / f"home-{count}"
            shutil.rmtree(home, ignore_errors=True)
            with postgres_database() as database, redis_database() as queue:
                env = base | {
                    "TESTAMENT_HOME": str(home),
                    "TESTAMENT_DATABASE_URL": database,
                    "TESTAMENT_QUEUE_URL": queue,
                }
                if server is not None:
                    server.client().create_bucket(Bucket=f"bench-{count}-{server.bucket}")
                    env |= server.env | {
                        "TESTAMENT_BLOB_URL": f"s3://bench-{count}-{server.bucket}/originals"
                    }
                run(["init"], env)
                before, services = children_cpu(), services_cpu(weed)
                with worker(env, count, work / f"worker-{count}.log"):
                    seconds = timed_ingest(folder, env, wait=True)
                    ingest = children_cpu() - before
                    services = services_cpu(weed) - services
                workers = children_cpu() - before - ingest
                rates[str(count)] = args.videos / seconds * 60
                speedup = rates[str(count)] / rates[str(args.workers[0])]
                store = "SeaweedFS" if server else "local folder"
                print(
                    f"PostgreSQL + Redis + {store}, {count} worker(s) {seconds:8.1f} s  "
                    f"{rates[str(count)]:7.1f} items/min  speed-up {speedup:4.2f}x  "
                    f"{os.getloadavg()[0]:.1f} load",
                    flush=True,
                )
                print(
                    f"  CPU a video: worker {workers / args.videos * 1000:.0f} ms (with its "
                    f"start), ingest {ingest / args.videos * 1000:.0f} ms, services "
                    f"{services / args.videos * 1000:.0f} ms (PostgreSQL, Redis"
                    f"{', SeaweedFS' if weed else ''}: all their use on this machine)",
                    flush=True,
                )
                run(["verify"], env)
    finally:
        if server is not None:
            server.stop()
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
