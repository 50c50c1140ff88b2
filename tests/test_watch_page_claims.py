"""A watched post's page task delivered to two workers at the same instant (at-least-once
delivery) is captured and recorded once: the page's claim in the catalog lets one worker
in, the other waits for it and finds the page captured. Real Chromium, on SQLite and
PostgreSQL, against the test's own site."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from testament import config
from testament.catalog.models import CustodyEvent
from testament.jobs import execute, registry, state
from testament.jobs.models import DONE, TaskRecord
from testament.store import Store
from testament.watch.models import Post, PostCapture
from testament.watch.net import RATE_ENV
from testament.watch.page_browser import CHROMIUM_ENV, BrowserUnavailable, chromium_path
from testament.watch.page_claims import claim
from testament.watch.page_records import PageCapture, PageClaim
from tests.system import need
from tests.watch_site import Site, serving
from tests.watch_support import watch_once


@pytest.fixture
def worker_env(store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """What a worker process reads: the store, Chromium, no per-host pacing on loopback."""
    try:
        monkeypatch.setenv(CHROMIUM_ENV, chromium_path())
    except BrowserUnavailable as exc:
        need(False, str(exc))
    monkeypatch.setenv(config.HOME_ENV, str(store.settings.home))
    monkeypatch.setenv(config.DATABASE_ENV, store.settings.database_url)
    monkeypatch.setenv(RATE_ENV, "1000")
    monkeypatch.delenv(config.ACTOR_ENV, raising=False)
    execute.shutdown()  # a worker process opens the store it is given, once
    yield
    execute.shutdown()


def _post_page_job(store: Store, site: Site) -> tuple[int, int]:
    """One watched post whose page is due, and its `post_page` job: (post id, job id)."""
    site.channel("twice").post("delivered twice")
    watch_once(store, f"{site.base}/s/twice")
    task = registry.named("post_page")
    assert task is not None
    with store.write() as session:
        post_id = session.execute(select(Post.id)).scalar_one()
        session.execute(update(Post).values(page_due_at=datetime.now(UTC)))
        job_id = state.queue_subject(session, task, f"post:{post_id}", "run1")
    assert job_id is not None
    return post_id, job_id


def test_a_page_task_delivered_twice_at_once_is_captured_and_recorded_once(
    store: Store, worker_env: None
) -> None:
    task = registry.named("post_page")
    assert task is not None
    with serving(Site()) as site:
        post_id, job_id = _post_page_job(store, site)
        together = threading.Barrier(2)
        failures: list[Exception] = []

        def deliver(worker: str) -> None:
            together.wait()
            try:
                execute.run_job(task, job_id, worker)
            except Exception as exc:  # noqa: BLE001 - reported below, not lost in the thread
                failures.append(exc)

        deliveries = [threading.Thread(target=deliver, args=(w,)) for w in ("w1", "w2")]
        for delivery in deliveries:
            delivery.start()
        for delivery in deliveries:
            delivery.join(timeout=180)
    assert failures == []
    with store.read() as session:
        pages = session.execute(
            select(func.count(PageCapture.id))
            .join(PostCapture, PostCapture.capture_id == PageCapture.capture_id)
            .where(PostCapture.post_id == post_id)
        ).scalar_one()
        recorded = session.execute(
            select(func.count()).where(CustodyEvent.action == "page_captured")
        ).scalar_one()
        job = session.get(TaskRecord, job_id)
        post = session.get(Post, post_id)
        claims = session.execute(select(func.count()).select_from(PageClaim)).scalar_one()
    assert (pages, recorded) == (1, 1)
    assert job is not None and (job.state, job.attempts) == (DONE, 2)  # both delivered
    assert post is not None and (post.page_due_at, post.page_failures) == (None, 0)
    assert claims == 0


def test_a_claim_is_taken_over_once_its_holder_is_gone_or_its_time_is_up(
    store: Store, worker_env: None
) -> None:
    with serving(Site()) as site:
        _post_page_job(store, site)
    with store.read() as session:
        capture_id = session.execute(select(PostCapture.capture_id)).scalar_one()
    assert claim(store, capture_id, "host-a:1:first")
    assert not claim(store, capture_id, "host-b:2:second")  # held, by a live worker elsewhere
    with store.write() as session:  # the holder's time is up
        session.execute(
            update(PageClaim).values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert claim(store, capture_id, "host-b:2:second")
    # A process on this host that no longer runs holds nothing, however long its claim.
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    with store.write() as session:
        session.execute(update(PageClaim).values(owner=f"{socket.gethostname()}:{gone}:dead"))
    assert claim(store, capture_id, "host-c:3:third")
    with store.read() as session:
        assert session.execute(select(PageClaim.owner)).scalar_one() == "host-c:3:third"
