"""Page capture that failed or never ran is retried: a browser missing on one run, or a
watcher killed between committing posts and capturing their pages, and a later run
captures each of those pages exactly once (real Chromium, against the test's own site)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, select, update
from typer.testing import Result

from testament import config
from testament.catalog import schema
from testament.store import Store, init_store
from testament.watch.lease import new_owner
from testament.watch.models import Post, PostCapture, Source
from testament.watch.net import RATE_ENV, Http
from testament.watch.notify import Notifier
from testament.watch.page_browser import CHROMIUM_ENV, BrowserUnavailable, chromium_path
from testament.watch.page_records import PageCapture, page_waiting
from testament.watch.poller import PollOutcome, Watcher
from testament.watch.scheduler import PAGE_CAPTURE_ENV, Scheduler, page_capture_hook
from testament.watch.sources import add_source
from tests.system import need
from tests.watch_site import Site, serving
from tests.watch_support import due_now


@pytest.fixture
def site() -> Iterator[Site]:
    with serving(Site()) as running:
        yield running


@pytest.fixture
def chromium() -> str:
    try:
        return chromium_path()
    except BrowserUnavailable as exc:
        need(False, str(exc))
        raise


def _round(store: Store) -> PollOutcome:
    hook = page_capture_hook()
    assert hook is not None
    watcher = Watcher(
        store, new_owner(), http=Http(rate=1000), notifier=Notifier(), page_capture=hook
    )
    (outcome,) = Scheduler(store, watcher).poll_due().outcomes
    return outcome


def _pages_by_post(store: Store) -> dict[int, int]:
    """Each post's number of page captures (of any of its captures)."""
    with store.read() as session:
        rows = session.execute(
            select(Post.id, func.count(PageCapture.id))
            .outerjoin(PostCapture, PostCapture.post_id == Post.id)
            .outerjoin(PageCapture, PageCapture.capture_id == PostCapture.capture_id)
            .group_by(Post.id)
            .order_by(Post.id)
        ).all()
    return dict(rows)


def _cli_env(store: Store, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        config.HOME_ENV: str(store.settings.home),
        config.DATABASE_ENV: store.settings.database_url,
        config.ACTOR_ENV: "watcher",
        RATE_ENV: "1000",
        PAGE_CAPTURE_ENV: "1",
        **extra,
    }


def _waiting(cli: Callable[..., Result]) -> int:
    """The pages waiting for capture, as `watch list` shows them."""
    listed = cli("watch", "list", "--json")
    assert listed.exit_code == 0, listed.output
    (source,) = json.loads(listed.stdout)
    table = cli("watch", "list")
    assert "pages waiting" in table.stdout
    return source["pages_waiting"]


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """The watcher killed once is enough on SQLite: the leases are the same on both."""
    opened, _ = init_store(config.resolve(home=tmp_path / "home", actor="tester"))
    yield opened
    opened.close()


def test_the_watch_posts_model_matches_migration_0008(store: Store) -> None:
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), schema.Base.metadata)
    assert [d for d in diff if "watch_posts" in repr(d)] == []


def test_pages_a_run_could_not_capture_are_captured_later_exactly_once(
    store: Store,
    site: Site,
    chromium: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cli: Callable[..., Result],
) -> None:
    channel = site.channel("retry")
    for n in range(3):
        channel.post(f"post {n}")
    source_id = add_source(store, f"{site.base}/s/retry", "telegram").id
    monkeypatch.setenv(PAGE_CAPTURE_ENV, "1")

    # First run: Chromium is not where the settings say. The posts are collected all the
    # same; their pages wait, each with the error, and the source itself is not failing.
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "no-chromium"))
    first = _round(store)
    assert (first.posts, first.pages, first.pages_failed, first.error) == (3, 0, 3, None)
    assert "no-chromium does not exist" in (first.page_error or "")
    assert list(_pages_by_post(store).values()) == [0, 0, 0]
    with store.read() as session:
        posts = session.execute(select(Post).order_by(Post.id)).scalars().all()
        assert {(p.page_failures, "no-chromium" in (p.page_error or "")) for p in posts} == {
            (1, True)
        }
        assert all(p.page_due_at is not None for p in posts)
        source = session.get(Source, source_id)
        assert source is not None and source.cursor == {"last_id": 3} and source.failures == 0
    assert _waiting(cli) == 3

    # Chromium back, before the retry is due: the new post's page is captured, the three
    # backing off wait.
    monkeypatch.setenv(CHROMIUM_ENV, chromium)
    channel.post("post 3")
    due_now(store, source_id)
    second = _round(store)
    assert (second.posts, second.pages, second.pages_failed) == (1, 1, 0)
    assert list(_pages_by_post(store).values()) == [0, 0, 0, 1]

    # Once due, the waiting pages are captured, oldest first, before anything new.
    with store.write() as session:
        session.execute(
            update(Post)
            .where(Post.page_due_at.is_not(None))
            .values(page_due_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    due_now(store, source_id)
    third = _round(store)
    assert (third.posts, third.pages, third.pages_failed) == (0, 3, 0)
    assert list(_pages_by_post(store).values()) == [1, 1, 1, 1]
    with store.read() as session:
        pages = session.execute(select(PageCapture).order_by(PageCapture.id)).scalars().all()
        # Pages are visited several at a time and recorded as each finishes loading: the
        # three of one poll are recorded in any order among themselves.
        urls = [p.url for p in pages]
        assert urls[0] == f"{site.base}/retry/4"
        assert sorted(urls[1:]) == [f"{site.base}/retry/{n}" for n in (1, 2, 3)]
        assert (
            session.execute(select(Post.page_due_at, Post.page_error).order_by(Post.id)).all()
            == [(None, None)] * 4
        )
    assert _waiting(cli) == 0

    # A page already captured is never captured again, even if its post still says due
    # (a watcher killed after the capture, before clearing it).
    with store.write() as session:
        session.execute(update(Post).values(page_due_at=datetime.now(UTC) - timedelta(seconds=1)))
    due_now(store, source_id)
    fourth = _round(store)
    assert (fourth.pages, fourth.pages_failed) == (0, 0)
    assert list(_pages_by_post(store).values()) == [1, 1, 1, 1]
    assert _waiting(cli) == 0


def test_a_watcher_killed_between_the_commit_and_the_pages_is_followed_by_their_capture(
    sqlite_store: Store, site: Site, chromium: str, tmp_path: Path
) -> None:
    store = sqlite_store
    channel = site.channel("killed")
    channel.post("first")
    channel.post("second")
    add_source(store, f"{site.base}/s/killed", "telegram")
    # A "Chromium" that says it started and then hangs: the watcher is killed while the
    # posts are committed and their pages are not yet captured.
    started = tmp_path / "started"
    hanging = tmp_path / "hanging-chromium"
    hanging.write_text(f"#!/bin/sh\necho $$ > {started}\nexec sleep 600\n")
    hanging.chmod(0o755)
    command = [sys.executable, "-m", "testament", "watch", "run", "--once"]
    watcher = subprocess.Popen(
        command,
        env=_cli_env(store, **{CHROMIUM_ENV: str(hanging)}),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and watcher.poll() is None and not started.exists():
        time.sleep(0.05)
    assert watcher.poll() is None, watcher.stderr.read().decode() if watcher.stderr else ""
    os.killpg(watcher.pid, signal.SIGKILL)
    watcher.wait()
    time.sleep(0.1)  # the script writes its pid right after it starts
    with contextlib.suppress(ProcessLookupError, ValueError):
        os.kill(int(started.read_text().strip()), signal.SIGKILL)
    assert list(_pages_by_post(store).values()) == [0, 0]
    with store.read() as session:
        assert session.execute(select(func.count(Post.id)).where(page_waiting())).scalar() == 2

    done = subprocess.run(
        command,
        env=_cli_env(store, **{CHROMIUM_ENV: chromium}),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    assert "source 1: 0 new posts, 0 files preserved, 2 pages captured" in done.stdout
    assert list(_pages_by_post(store).values()) == [1, 1]
