"""Helpers for the watch tests: small generated media, one watcher round, a due source."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from sqlalchemy import select

from testament.store import Store
from testament.watch.lease import new_owner
from testament.watch.models import Source
from testament.watch.net import Http
from testament.watch.notify import Notifier
from testament.watch.poller import Watcher
from testament.watch.scheduler import Round, Scheduler
from testament.watch.sources import add_source
from tests.media import make_image, make_video


@cache
def media_bytes(seed: int = 1) -> tuple[bytes, bytes]:
    """A small JPEG and a one-second H.264 MP4, different for each seed."""
    with tempfile.TemporaryDirectory() as folder:
        photo = make_image(Path(folder) / "p.jpg", seed=seed, width=160, height=90).read_bytes()
        video = make_video(
            Path(folder) / "v.mp4", seconds=1.0, width=160, height=90, seed=seed + 100
        )
        return photo, video.read_bytes()


def scheduler(store: Store, notifier: Notifier | None = None) -> Scheduler:
    watcher = Watcher(store, new_owner(), http=Http(rate=1000), notifier=notifier or Notifier())
    return Scheduler(store, watcher)


def watch_once(
    store: Store,
    url: str,
    *,
    kind: str = "telegram",
    add: bool = True,
    notifier: Notifier | None = None,
) -> int:
    """Add the source (unless already there) and run one round; the source's id."""
    if add:
        add_source(store, url, kind)
    scheduler(store, notifier).poll_due()
    with store.read() as session:
        return session.execute(select(Source.id).where(Source.url == url)).scalar_one()


def run_round(store: Store, notifier: Notifier | None = None) -> Round:
    return scheduler(store, notifier).poll_due()


def due_now(store: Store, source_id: int) -> None:
    with store.write() as session:
        source = session.get(Source, source_id)
        assert source is not None
        source.next_run_at = datetime.now(UTC)
