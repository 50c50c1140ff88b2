"""Page capture throughput: posts' pages preserved a second, on a given number of cores.

    python -m benchmarks.page_capture [--pages 40] [--concurrency 2,4,6] [--cores 2]

Serves post pages over HTTPS on loopback (the tests' server: a tall page with a gzip-encoded
stylesheet and an image, behind a test CA's chain), then, for each concurrency, captures
`--pages` of them into a fresh store with one browser: full-page screenshot, WACZ archive,
certificate chain and headers, each preserved as an asset with its custody events. The
process, Chromium included, is pinned to `--cores` CPUs. The host rate limit is lifted
(loopback is one host). Prints pages a second with and without the browser's start, and
whether the target (2 pages a second on 2 cores) holds; exits 1 when it does not.

The CPU time of the whole run is printed too, per page: this process, Playwright's driver
and every Chromium process (browser, renderers, GPU, network), each read from /proc while
it runs, since the kernel's accounting of exited children misses the renderers Chromium's
zygote forks and reaps. On a shared machine the wall clock measures the neighbours as much
as the capture, while `cores / CPU seconds per page` is what the same cores give when
nothing else runs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from tests.https_pages import https_pages

from testament import config
from testament.store import init_store
from testament.watch.page_browser import Browser
from testament.watch.page_capture import capture_post_pages

TARGET = 2.0  # pages a second on 2 cores


class TreeCpu:
    """CPU seconds of this process and all its descendants, sampled from /proc every
    `every` seconds (a process's last moments before it exits are missed: a slight
    undercount), less what the sampling itself costs."""

    def __init__(self, every: float = 0.05) -> None:
        self.every = every
        self.own = 0.0  # the sampling thread's CPU seconds
        self.first: dict[int, float] = {}  # pid -> CPU seconds before the measurement
        self.last: dict[int, float] = {}  # pid -> CPU seconds when last seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeCpu:
        self._sample()
        self.first = dict(self.last)
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def seconds(self) -> float:
        tree = sum(cpu - self.first.get(pid, 0.0) for pid, cpu in self.last.items())
        return tree - self.own

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._sample()
        self.own = time.thread_time()

    def _sample(self) -> None:
        for pid in _descendants(os.getpid()):
            cpu = _process_cpu(pid)
            if cpu is not None:
                self.last[pid] = cpu


def _stat(pid: int) -> list[str] | None:
    """/proc/PID/stat's fields after the command name (which may hold spaces)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None  # exited meanwhile


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        fields = _stat(int(entry)) if entry.isdigit() else None
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _process_cpu(pid: int) -> float | None:
    fields = _stat(pid)
    if fields is None:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _launch_seconds() -> float:
    """How long starting and closing the browser alone takes, on the same cores."""
    import asyncio

    async def start_stop() -> None:
        async with Browser():
            pass

    started = time.perf_counter()
    asyncio.run(start_stop())
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--concurrency", default="2,4,6")
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))[: args.cores]
    os.sched_setaffinity(0, cores)  # Chromium's processes inherit it
    print(f"{args.pages} pages a run, pinned to CPUs {cores}; load {os.getloadavg()[0]:.1f}")
    launch = statistics.median(_launch_seconds() for _ in range(3))
    print(f"browser start and close: {launch:.2f} s")
    best = 0.0
    with (
        tempfile.TemporaryDirectory(prefix="bench-pages-") as work,
        https_pages(Path(work) / "tls") as (base, _chain),
    ):
        for concurrency in (int(c) for c in args.concurrency.split(",")):
            home = Path(work) / f"store-{concurrency}"
            store, _ = init_store(config.resolve(home=home, actor="bench"))
            urls = [f"{base}/s/channel/{n}" for n in range(args.pages)]
            started = time.perf_counter()
            with TreeCpu() as cpu:
                results = capture_post_pages(store, urls, concurrency=concurrency, rate=1e6)
            elapsed = time.perf_counter() - started
            per_page = cpu.seconds() / args.pages
            store.close()
            failed = [r for r in results if not r.ok]
            if failed:
                print(f"  {len(failed)} failed, first: {failed[0].error}")
                return 1
            whole = args.pages / elapsed
            warm = args.pages / max(elapsed - launch, 1e-9)
            best = max(best, whole)
            print(
                f"concurrency {concurrency}: {elapsed:6.1f} s, {whole:4.2f} pages/s "
                f"({warm:4.2f} pages/s after the browser's start); "
                f"{per_page:.2f} CPU s a page, {len(cores) / per_page:4.2f} pages/s "
                f"on {len(cores)} idle cores"
            )
    held = best >= TARGET
    verdict = "met" if held else "NOT met"
    print(f"best {best:.2f} pages/s; target {TARGET} pages/s on 2 cores: {verdict}")
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
