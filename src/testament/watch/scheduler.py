"""The watcher's rounds: poll each due source it can lease, recheck young posts, repeat.

Sources are polled one after another by one watcher; more watchers (on this or other
machines, against one PostgreSQL catalog) share the sources through their leases.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select

from testament.store import Store
from testament.watch.lease import claim, new_owner, release
from testament.watch.models import Source
from testament.watch.notify import deliver
from testament.watch.poller import PageCapture, PollOutcome, Watcher
from testament.watch.removal import recheck
from testament.watch.sources import SourceError, parse_duration

PAGE_CAPTURE_ENV = "TESTAMENT_WATCH_PAGE_CAPTURE"
YOUNG_ENV = (
    "TESTAMENT_WATCH_RECHECK_YOUNGER"  # posts younger than this are rechecked by the watcher
)
YOUNG_EVERY_ENV = "TESTAMENT_WATCH_RECHECK_EVERY"
DEFAULT_YOUNG = "2d"
DEFAULT_YOUNG_EVERY = "1h"
IDLE_SLEEP = 30.0


def page_capture_on() -> bool:
    return os.environ.get(PAGE_CAPTURE_ENV, "") in ("1", "true", "yes")


def page_capture_hook() -> PageCapture | None:
    """The page capture of each new post, when TESTAMENT_WATCH_PAGE_CAPTURE=1."""
    if not page_capture_on():
        return None
    try:
        from testament.watch.page_capture import capture_post_pages
    except ImportError as exc:
        raise SourceError(
            f"{PAGE_CAPTURE_ENV} is set but page capture cannot be loaded ({exc})"
        ) from None
    return capture_post_pages


def _env_duration(name: str, default: str) -> timedelta:
    try:
        return parse_duration(os.environ.get(name) or default)
    except SourceError as exc:
        raise SourceError(f"{name}: {exc}") from None


def due_sources(store: Store) -> list[int]:
    now = datetime.now(UTC)
    with store.read() as session:
        query = (
            select(Source.id)
            .where(Source.status == "active")
            .where(or_(Source.next_run_at.is_(None), Source.next_run_at <= now))
            .order_by(Source.next_run_at, Source.id)
        )
        return list(session.execute(query).scalars())


def next_due(store: Store) -> datetime | None:
    with store.read() as session:
        query = select(func.min(Source.next_run_at)).where(Source.status == "active")
        return session.execute(query).scalar()


def default_watcher(store: Store) -> Watcher:
    """Pages captured here, or, with a queue configured, queued for the capture workers."""
    if page_capture_on() and store.settings.queue_url is not None:
        from testament.watch.page_jobs import PageJobs

        return Watcher(store, new_owner(), page_jobs=PageJobs(store.settings, uuid.uuid4().hex))
    return Watcher(store, new_owner(), page_capture=page_capture_hook())


@dataclass
class Round:
    outcomes: list[PollOutcome] = field(default_factory=list)
    removed: int = 0


class Scheduler:
    def __init__(self, store: Store, watcher: Watcher | None = None) -> None:
        self.store = store
        self.watcher = watcher or default_watcher(store)
        self.young = _env_duration(YOUNG_ENV, DEFAULT_YOUNG)
        self.young_every = _env_duration(YOUNG_EVERY_ENV, DEFAULT_YOUNG_EVERY)

    def poll_due(self, report: Callable[[PollOutcome], None] | None = None) -> Round:
        """One round: every due source this watcher can lease, then young posts rechecked."""
        done = Round()
        try:
            for source_id in due_sources(self.store):
                if not claim(self.store, source_id, self.watcher.owner):
                    continue  # paused meanwhile, or another watcher has it
                try:
                    outcome = self.watcher.poll(source_id)  # releases the lease when done
                except BaseException:
                    release(self.store, source_id, self.watcher.owner)
                    raise
                done.outcomes.append(outcome)
                if report is not None:
                    report(outcome)
        finally:
            self.watcher.finish()
        checked_before = datetime.now(UTC) - self.young_every
        checks = recheck(
            self.store,
            self.watcher.http,
            younger_than=self.young,
            checked_before=checked_before,
            notifier=self.watcher.notifier,
        )
        done.removed = sum(1 for c in checks if c.state == "removed")
        return done

    def run(
        self,
        stop: threading.Event,
        report: Callable[[PollOutcome], None] | None = None,
    ) -> None:
        """Rounds until `stop` is set, sleeping until the next source is due."""
        while not stop.is_set():
            deliver(self.store, self.watcher.notifier)  # anything a previous run left undelivered
            self.poll_due(report)
            upcoming = next_due(self.store)
            wait = IDLE_SLEEP
            if upcoming is not None:
                wait = min(IDLE_SLEEP, max(0.2, (upcoming - datetime.now(UTC)).total_seconds()))
            stop.wait(wait)
