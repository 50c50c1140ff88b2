"""The watcher's cost beyond ingesting the media it finds, on loopback.

    python -m benchmarks.watch [--channels 200] [--posts 50] [--new 10] [--work DIR]

A local server (tests/watch_site.py, the shape of Telegram's web preview) plays CHANNELS
channels of POSTS posts each: a quarter with a video, a quarter with a photo, the rest
text. The watcher's first run takes every post; then NEW posts are added to each channel
and an incremental run takes those. In the same run, the same media files are ingested
directly (one `Ingest` over the files, as `testament ingest` does) into a second store,
first the first run's files and then the new ones. Printed: wall times, time per post
beyond the direct ingest, and the ratio watcher / direct ingest (target at most 1.30,
i.e. +30%, without page capture). The per-host rate limit is lifted (TESTAMENT_WATCH_RATE)
since every channel is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from sqlalchemy import select
from tests.media import make_video, scene_frame
from tests.watch_site import Media, Site, serving

from testament import config
from testament.catalog.models import Asset
from testament.collect.ingest import Ingest, Step, default_steps
from testament.collect.items import Item, Sighting
from testament.store import Store, init_store
from testament.watch.lease import claim, new_owner
from testament.watch.models import Source
from testament.watch.net import RATE_ENV, Http
from testament.watch.notify import Notifier
from testament.watch.poller import Watcher
from testament.watch.sources import add_source


def _media(folder: Path, seed: int, kind: str) -> Path:
    if kind == "video":
        return make_video(
            folder / f"v{seed}.mp4", seconds=1.0, fps=10, width=96, height=54, seed=seed
        )
    path = folder / f"p{seed}.jpg"
    Image.fromarray(scene_frame(seed, 0.0, 160, 90)).save(path, quality=85)
    return path


def populate(
    site: Site, folder: Path, channels: int, posts: int, first_seed: int
) -> dict[str, list[Path]]:
    """`posts` more posts on each channel; the media files made for them, by channel."""
    files: dict[str, list[Path]] = {}
    for c in range(channels):
        channel = site.channel(f"channel{c:03d}")
        files[channel.name] = []
        for n in range(posts):
            seed = first_seed + c * 10_000 + n
            kind = ("video", "photo", "text", "text")[n % 4]
            media = []
            if kind != "text":
                path = _media(folder, seed, kind)
                files[channel.name].append(path)
                media = [Media(kind, site.add_file(path.name, path.read_bytes()), b"")]
            channel.post(f"post {n} of {channel.name}: report from the front", media)
    return files


class Deferred:
    """An ingest step whose finish (saving the hash index) waits for the end of the run."""

    def __init__(self, step: Step) -> None:
        self.step = step

    def __call__(self, asset: Asset) -> None:
        self.step(asset)

    def finish(self) -> None:
        pass


@dataclass
class Totals:
    posts: int = 0
    files: int = 0
    watch_wall: float = 0.0
    watch_cpu: float = 0.0
    direct_wall: float = 0.0
    direct_cpu: float = 0.0

    def row(self, name: str) -> str:
        beyond = (self.watch_wall - self.direct_wall) / self.posts * 1000
        beyond_cpu = (self.watch_cpu - self.direct_cpu) / self.posts * 1000
        return (
            f"| {name} | {self.posts} | {self.files} | {self.watch_wall:.1f} / {self.watch_cpu:.1f}"
            f" | {self.direct_wall:.1f} / {self.direct_cpu:.1f} | {beyond:.1f} / {beyond_cpu:.1f}"
            f" | {self.watch_wall / self.direct_wall:.2f}"
            f" / {self.watch_cpu / self.direct_cpu:.2f} |"
        )


def run(watched: Store, ingested: Store, site: Site, files: dict[str, list[Path]]) -> Totals:
    """Each channel polled by the watcher, then its media ingested directly: interleaved, so
    that the load of a shared machine falls on both alike."""
    totals = Totals()
    watcher = Watcher(watched, new_owner(), http=Http(), notifier=Notifier())
    steps = default_steps(ingested)
    direct = Ingest(ingested, steps=[Deferred(step) for step in steps])
    with watched.read() as session:
        sources = dict(session.execute(select(Source.name, Source.id)).all())
    for index, (name, paths) in enumerate(files.items()):
        if index and index % 20 == 0:
            print(f"  {index} channels: {totals.row('so far')}", flush=True)
        wall, cpu = time.perf_counter(), time.process_time()
        assert claim(watched, sources[name], watcher.owner, due_only=False)
        outcome = watcher.poll(sources[name])
        totals.watch_wall += time.perf_counter() - wall
        totals.watch_cpu += time.process_time() - cpu
        if outcome.error:
            raise SystemExit(f"watcher failed on {name}: {outcome.error}")
        totals.posts += outcome.posts
        totals.files += len(paths)
        items = [Item(p.name, Sighting(method="file", filename=p.name), path=p) for p in paths]
        wall, cpu = time.perf_counter(), time.process_time()
        if not direct.run(items).ok:
            raise SystemExit(f"direct ingest of {name}'s media failed")
        totals.direct_wall += time.perf_counter() - wall
        totals.direct_cpu += time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    watcher.finish()
    totals.watch_wall += time.perf_counter() - wall
    totals.watch_cpu += time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    for step in steps:
        step.finish()
    totals.direct_wall += time.perf_counter() - wall
    totals.direct_cpu += time.process_time() - cpu
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--posts", type=int, default=50)
    parser.add_argument("--new", type=int, default=10)
    parser.add_argument("--work", type=Path, default=None)
    args = parser.parse_args()
    os.environ[RATE_ENV] = "100000"
    work = args.work or Path(tempfile.mkdtemp(prefix="testament-watch-bench-"))
    media = work / "media"
    media.mkdir(parents=True, exist_ok=True)
    site = Site()
    started = time.perf_counter()
    first = populate(site, media, args.channels, args.posts, 1)
    count = sum(len(p) for p in first.values())
    print(
        f"made {count} media files for {args.channels * args.posts} posts "
        f"in {time.perf_counter() - started:.0f} s"
    )
    watched, _ = init_store(config.resolve(home=work / "watched", actor="bench"))
    ingested, _ = init_store(config.resolve(home=work / "ingested", actor="bench"))
    with serving(site):
        for c in range(args.channels):
            add_source(watched, f"{site.base}/s/channel{c:03d}", "telegram")
        first_run = run(watched, ingested, site, first)
        print(first_run.row("first run"), flush=True)
        new = populate(site, media, args.channels, args.new, 5_000)
        incremental = run(watched, ingested, site, new)
    print()
    print(
        "| run | posts | media files | watcher (s, wall / CPU) | direct ingest (s, wall / CPU) "
        "| beyond ingest per post (ms, wall / CPU) | watcher / direct (wall / CPU) |"
    )
    print("|---|---|---|---|---|---|---|")
    print(first_run.row("first run"))
    print(incremental.row("incremental"))
    watched.close()
    ingested.close()


if __name__ == "__main__":
    main()
