"""With a queue, the watcher queues each new post's page for the capture workers: a real
Redis broker, PostgreSQL, a real `testament worker` and real Chromium on the test's own
site. A page is captured once however often its message comes; one that cannot be
captured is retried, then failed for good with its error kept on the post and the job."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from testament import config
from testament.jobs.models import DONE, FAILED, QUEUED, TaskRecord
from testament.store import Store, init_store
from testament.watch.lease import new_owner
from testament.watch.models import Post, PostCapture, Source
from testament.watch.net import RATE_ENV, Http
from testament.watch.notify import Notifier
from testament.watch.page_browser import CHROMIUM_ENV, BrowserUnavailable, chromium_path
from testament.watch.page_jobs import PageJobs
from testament.watch.page_records import PageCapture
from testament.watch.poller import PAGE_RETRY, Watcher
from testament.watch.scheduler import PAGE_CAPTURE_ENV, Scheduler
from testament.watch.sources import add_source
from tests import jobs_support
from tests.conftest import _postgres_database
from tests.jobs_support import Deployment
from tests.system import need
from tests.watch_site import Site, serving
from tests.watch_support import due_now

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Deployment]:
    try:
        chromium = chromium_path()
    except BrowserUnavailable as exc:
        need(False, str(exc))
        raise
    for queue_url in jobs_support.broker_url("redis"):
        for database_url in _postgres_database():
            team = Deployment(tmp_path / "home", database_url, queue_url, tmp_path / "worker.log")
            team.extra_env = {RATE_ENV: "1000", PAGE_CAPTURE_ENV: "1", CHROMIUM_ENV: chromium}
            init_store(config.resolve(home=team.home, database_url=database_url))[0].close()
            try:
                yield team
            finally:
                team.stop_worker()


def _page_jobs(store: Store) -> list[tuple[str, str, int]]:
    with store.read() as session:
        query = select(TaskRecord.subject, TaskRecord.state, TaskRecord.attempts)
        rows = session.execute(query.where(TaskRecord.task == "post_page").order_by(TaskRecord.id))
        return [(subject, state, attempts) for subject, state, attempts in rows.all()]


def _pages_by_post(store: Store) -> list[int]:
    with store.read() as session:
        rows = session.execute(
            select(Post.id, func.count(PageCapture.id))
            .join(PostCapture, PostCapture.post_id == Post.id)
            .outerjoin(PageCapture, PageCapture.capture_id == PostCapture.capture_id)
            .group_by(Post.id)
            .order_by(Post.id)
        ).all()
    return [count for _, count in rows]


def _listed(team: Deployment) -> dict[str, object]:
    (source,) = json.loads(team.testament("watch", "list", "--json").stdout)
    return source


def test_pages_are_captured_by_workers_once_and_failures_are_kept(team: Deployment) -> None:
    store = team.store()
    with serving(Site()) as site:
        channel = site.channel("team")
        channel.post("first")
        channel.post("second")
        team.testament("watch", "add", f"{site.base}/s/team", "--kind", "telegram")

        # No worker yet: the posts are committed, their pages queued and waiting.
        ran = team.testament("watch", "run", "--once")
        assert "2 new posts, 0 files preserved, 2 pages queued for capture" in ran.stdout
        assert _page_jobs(store) == [("post:1", QUEUED, 0), ("post:2", QUEUED, 0)]
        assert _listed(team)["pages_waiting"] == 2
        assert _pages_by_post(store) == [0, 0]

        team.start_worker(concurrency=1)
        team.wait_until(
            lambda: [s for _, s, _ in _page_jobs(store)] == [DONE, DONE], "pages captured"
        )
        assert _pages_by_post(store) == [1, 1]
        assert _listed(team)["pages_waiting"] == 0

        # The same job delivered again (a broker's redelivery): the page is not captured twice.
        with store.write() as session:
            job_id = session.execute(select(func.min(TaskRecord.id))).scalar_one()
            session.execute(update(TaskRecord).where(TaskRecord.id == job_id).values(state=QUEUED))
        PageJobs(replace(store.settings, queue_url=team.queue_url), "again").send([job_id])
        team.wait_until(lambda: _page_jobs(store)[0][1] == DONE, "the redelivered job done")
        assert _pages_by_post(store) == [1, 1]

        # A worker without Chromium: the third page is tried four times, then fails for
        # good; the post keeps the error and no longer waits; `jobs` shows the job.
        team.stop_worker()
        team.extra_env[CHROMIUM_ENV] = "/nonexistent/chromium"
        team.start_worker(concurrency=1)
        channel.post("third")
        due_now(store, 1)
        assert "1 page queued for capture" in team.testament("watch", "run", "--once").stdout
        team.wait_until(lambda: _page_jobs(store)[-1][1] == FAILED, "the page failed for good")
    assert _page_jobs(store)[-1] == ("post:3", FAILED, 4)
    with store.read() as session:
        third = session.get(Post, 3)
        assert third is not None and third.page_due_at is None and third.page_failures == 4
        assert "/nonexistent/chromium does not exist" in (third.page_error or "")
    listed = _listed(team)
    assert listed["pages_waiting"] == 0
    assert "/nonexistent/chromium does not exist" in str(listed["last_page_error"])
    (job,) = json.loads(team.testament("jobs", "--state", "failed", "--json").stdout)["jobs"]
    assert (job["task"], job["subject"], job["queue"]) == ("post_page", "post:3", "capture")
    assert job["error"].startswith("BrowserUnavailable: capturing pages needs headless Chromium")
    assert "post 3" in team.testament("jobs", "--state", "failed").stdout
    assert _pages_by_post(store) == [1, 1, 0]
    store.close()


def test_a_broker_out_of_reach_leaves_the_pages_due_again_soon(tmp_path: Path) -> None:
    """The posts are committed all the same; their jobs are recorded, each page waits with
    the broker's error, and the source itself is not failing."""
    settings = replace(config.resolve(home=tmp_path / "home"), queue_url="redis://127.0.0.1:1/0")
    store, _ = init_store(settings)
    with serving(Site()) as site:
        channel = site.channel("down")
        channel.post("first")
        channel.post("second")
        source_id = add_source(store, f"{site.base}/s/down", "telegram").id
        watcher = Watcher(
            store,
            new_owner(),
            http=Http(rate=1000),
            notifier=Notifier(),
            page_jobs=PageJobs(store.settings, "down"),
        )
        (outcome,) = Scheduler(store, watcher).poll_due().outcomes
    assert (outcome.posts, outcome.pages_queued, outcome.pages_failed) == (2, 0, 2)
    assert outcome.error is None and "cannot reach the queue at redis://127.0.0.1:1/0" in str(
        outcome.page_error
    )
    assert _page_jobs(store) == [("post:1", QUEUED, 0), ("post:2", QUEUED, 0)]
    with store.read() as session:
        posts = session.execute(select(Post).order_by(Post.id)).scalars().all()
        soon = datetime.now(UTC) + PAGE_RETRY
        assert all(p.page_due_at is not None and p.page_failures == 1 for p in posts)
        assert all(
            abs(p.page_due_at.replace(tzinfo=UTC) - soon) < timedelta(minutes=1) for p in posts
        )
        source = session.get(Source, source_id)
        assert source is not None and source.failures == 0
    store.close()
