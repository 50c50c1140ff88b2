"""How quickly the command line answers: `--help`, and a still query on a small store.

    python -m benchmarks.cli_startup [--runs 15] [--assets 20] [--work DIR] [--against SRC]

Builds a store of short synthetic videos once (`testament init` + `testament ingest`), takes a
JPEG still from one of them, then runs `python -c pass`, `testament --help` and
`testament match still.jpg --json` in turn, N rounds, each a whole new process with its
bytecode cached as an installed package has it. Prints the load average, each command's
median wall and CPU time, the wall time's ratio to `python -c pass` measured in the same
rounds, and whether the targets hold; exits 1 when one does not. `--against` times `--help`
and the query of another checkout's `src` folder in the same rounds: a before and after at
the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from benchmarks.matching.media import frame_at, write_video
from PIL import Image, ImageDraw

SIZE = (320, 240)
FPS = 25

# The targets, in seconds of a whole process, and as multiples of `python -c pass` on the
# machine they were set on: 11 ms there for a bare interpreter start (2 cores, idle).
REFERENCE_PYTHON_START = 0.011
TARGETS = {"--help": 0.3, "match still": 0.6}


def _frames(seed: int, seconds: float) -> Iterator[Image.Image]:
    """Seeded smooth noise drifting sideways with a disc crossing it: one scene per seed."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(9, 12, 3), dtype=np.uint8)
    base = np.asarray(Image.fromarray(small).resize(SIZE, Image.Resampling.BICUBIC))
    disc = tuple(int(v) for v in rng.integers(0, 256, 3))
    for number in range(round(seconds * FPS)):
        t = number / FPS
        image = Image.fromarray(np.roll(base, int(t * SIZE[0] * 0.15), axis=1))
        x, y = int(40 + 200 * ((t * 0.37) % 1.0)), int(120 + 60 * np.sin(t * 2))
        ImageDraw.Draw(image).ellipse((x, y - 25, x + 50, y + 25), fill=disc)
        yield image


def make_media(folder: Path, count: int) -> None:
    """`count` videos of 2 to 4 s in `folder`/videos, and `folder`/still.jpg from one of them."""
    videos = folder / "videos"
    for seed in range(count):
        seconds = 2 + (seed % 5) / 2
        write_video(videos / f"clip{seed:02}.mp4", _frames(seed, seconds), FPS)
    still = folder / "still.jpg"
    frame_at(videos / f"clip{count // 2:02}.mp4", 1.2).image.save(still, quality=85)


def _testament() -> list[str]:
    """The installed console script, as a person runs it."""
    script = Path(sys.executable).with_name("testament")
    return [str(script)] if script.exists() else [sys.executable, "-m", "testament"]


def child_env(work: Path, home: Path, source: Path | None = None) -> dict[str, str]:
    """As an installed package runs: bytecode cached (under `work`, not in the source tree).

    `source`, another checkout's `src` folder, is put first on the import path.
    """
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    env |= {"TESTAMENT_HOME": str(home), "PYTHONPYCACHEPREFIX": str(work / "bytecode")}
    if source is not None:
        env["PYTHONPATH"] = str(source.resolve())
    return env


def build_store(env: dict[str, str], videos: Path) -> None:
    for arguments in (["init"], ["ingest", str(videos)]):
        subprocess.run([*_testament(), *arguments], env=env, check=True, capture_output=True)


@dataclass(frozen=True)
class Run:
    wall: float  # seconds, start to exit
    cpu: float  # user and system seconds: less swayed than wall time by other work
    output: bytes


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], env: dict[str, str]) -> Run:
    """One whole process, which must succeed."""
    cpu, started = _cpu_of_children(), time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{done.stderr.decode(errors='replace')}")
    return Run(wall, _cpu_of_children() - cpu, done.stdout)


Commands = dict[str, tuple[list[str], dict[str, str]]]


def commands(still: Path, env: dict[str, str], against: dict[str, str] | None) -> Commands:
    """What is timed: the bare interpreter, help, a still query (and the same elsewhere)."""
    help_, match = [*_testament(), "--help"], [*_testament(), "match", str(still), "--json"]
    timed = {
        "python -c pass": ([sys.executable, "-c", "pass"], env),
        "--help": (help_, env),
        "match still": (match, env),
    }
    if against is not None:
        timed |= {"--help (against)": (help_, against), "match still (against)": (match, against)}
    return timed


def measure(timed: Commands, runs: int) -> dict[str, tuple[float, float]]:
    """Median wall and CPU seconds of each command over `runs` rounds that alternate them.

    Each runs once first, unmeasured: that fills the bytecode cache, and the still must be
    found in the store for the figures to mean anything.
    """
    for label, (command, env) in timed.items():
        first = run(command, env)
        if label.startswith("match") and not json.loads(first.output)["matches"]:
            raise SystemExit(f"{label}: the still matched nothing; the benchmark is not valid")
    runs_of: dict[str, list[Run]] = {label: [] for label in timed}
    for _round in range(runs):
        for label, (command, env) in timed.items():
            runs_of[label].append(run(command, env))
    return {
        label: (statistics.median(r.wall for r in done), statistics.median(r.cpu for r in done))
        for label, done in runs_of.items()
    }


def report(
    medians: dict[str, tuple[float, float]], runs: int, assets: int, loads: tuple[float, float]
) -> bool:
    """Print the table; True when every target holds both absolutely and as a ratio.

    `loads` is the load average at the start and end of the rounds: wall times stretch
    with it, and a figure means little without it.
    """
    base = medians["python -c pass"][0]
    print(
        f"CLI startup: median of {runs} rounds, {assets} assets, {os.cpu_count()} cores, "
        f"load {loads[0]:.1f} at the start, {loads[1]:.1f} at the end"
    )
    print(
        f"{'command':<24}{'wall s':>8}{'cpu s':>8}{'ratio':>7}{'target s':>9}{'ratio ≤':>8}  holds"
    )
    all_hold = True
    for label, (wall, cpu) in medians.items():
        ratio = wall / base
        line = f"{label:<24}{wall:8.3f}{cpu:8.3f}{ratio:7.1f}"
        target = TARGETS.get(label)
        if target is None:
            print(line)
            continue
        most = target / REFERENCE_PYTHON_START
        holds = wall <= target and ratio <= most
        all_hold &= holds
        verdict = "yes" if holds else f"no (absolute: {wall <= target}, ratio: {ratio <= most})"
        print(f"{line}{target:9.2f}{most:8.0f}  {verdict}")
    return all_hold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="rounds of the commands")
    parser.add_argument("--assets", type=int, default=20, help="videos in the store")
    parser.add_argument("--work", type=Path, help="scratch folder (default: a temporary one)")
    parser.add_argument(
        "--against", type=Path, help="another checkout's src folder, timed in the same rounds"
    )
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="testament-cli-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        home = work / "store"
        env = child_env(work, home)
        still = work / "still.jpg"
        if not still.exists():
            make_media(work, args.assets)
        if not home.exists():
            build_store(env, work / "videos")
        against = None if args.against is None else child_env(work, home, args.against)
        started = os.getloadavg()[0]
        medians = measure(commands(still, env, against), args.runs)
        holds = report(medians, args.runs, args.assets, (started, os.getloadavg()[0]))
    finally:
        if args.work is None:
            shutil.rmtree(work)
    sys.exit(0 if holds else 1)


if __name__ == "__main__":
    main()
