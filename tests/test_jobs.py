"""Workers on real brokers (Redis and RabbitMQ), PostgreSQL, and a real worker process.

One worker per broker for the whole module; each test brings media of its own.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from sqlalchemy import select

from testament.catalog.models import Asset, FootageLink
from testament.jobs.celery_app import make_app
from testament.jobs.models import DONE, FAILED, QUEUED, RUNNING
from testament.store import init_store
from tests import jobs_support
from tests import web_support as ws
from tests.conftest import _postgres_database
from tests.jobs_support import Deployment, jobs_of, results_recorded_once
from tests.media import make_image, make_video

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module", params=["redis", "amqp"])
def team(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Deployment]:
    folder = tmp_path_factory.mktemp(f"team-{request.param}")
    for queue_url in jobs_support.broker_url(request.param):
        for database_url in _postgres_database():
            team = Deployment(folder / "home", database_url, queue_url, folder / "worker.log")
            from testament import config

            init_store(config.resolve(home=team.home, database_url=database_url))[0].close()
            team.start_worker()
            try:
                yield team
            finally:
                team.stop_worker()


def _images(folder: Path, seeds: range, width: int = 160, height: int = 90) -> list[Path]:
    folder.mkdir(parents=True)
    return [make_image(folder / f"still{s}.png", seed=s, width=width, height=height) for s in seeds]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _sha256s(team: Deployment, folder: Path) -> list[str]:
    return sorted(_sha256(p) for p in folder.iterdir())


def test_ingest_wait_returns_once_every_item_is_processed(team: Deployment, tmp_path: Path) -> None:
    """Two worker processes, each with its own copy of the hash index, still link a still
    to the video it was taken from, whichever of them fingerprints which."""
    folder = tmp_path / "media"
    _images(folder, range(1, 3))
    video = make_video(folder / "clip.mp4", seconds=3.0, seed=3)
    with av.open(str(video)) as container:
        frame = next(f for f in container.decode(video=0) if f.time and f.time >= 1.5)
        frame.to_image().save(folder / "still.png")
    done = team.testament("ingest", str(folder), "--wait")
    assert "4 preserved" in done.stdout
    store = team.store()
    try:
        sha256s = _sha256s(team, folder)
        jobs = jobs_of(store, sha256s)
        assert sorted((j.task, j.state) for j in jobs) == sorted(
            [("fingerprint", DONE), ("thumbnails", DONE)] * 4
        )
        results_recorded_once(store, sha256s)
        with store.read() as session:
            ids = dict(session.execute(select(Asset.sha256, Asset.id)).all())
            links = session.execute(select(FootageLink)).scalars().all()
        still, clip = (ids[_sha256(folder / name)] for name in ("still.png", "clip.mp4"))
        assert [(k.asset_a_id, k.relation, k.asset_b_id) for k in links] == [
            (still, "still_from", clip)
        ]
    finally:
        store.close()
    again = team.testament("ingest", str(folder))  # preserved already; nothing to queue
    assert "4 already present" in again.stdout
    assert "processing continues in the workers" in again.stdout
    assert team.testament("verify").returncode == 0


def test_a_task_is_retried_and_one_failing_for_good_is_recorded_with_its_error(
    team: Deployment, tmp_path: Path
) -> None:
    folder = tmp_path / "media"
    _images(folder, range(11, 13))
    control = make_app(team.queue_url).control
    for queue in ("ingest", "match"):
        control.cancel_consumer(queue, reply=True)
    team.testament("ingest", str(folder))
    store = team.store()
    first, second = _sha256s(team, folder)
    aside = {}
    for sha256 in (first, second):  # the originals go missing before any worker reads them
        path = store.blobs.local_path(sha256)
        assert path is not None
        aside[sha256] = path, tmp_path / sha256
        shutil.move(path, tmp_path / sha256)
    for queue in ("ingest", "match"):
        control.add_consumer(queue, reply=True)

    def tried(sha256: str) -> bool:
        return all(j.attempts >= 1 and j.error for j in jobs_of(store, [sha256]))

    team.wait_until(lambda: tried(first), "a first failed attempt")
    shutil.move(*reversed(aside[first]))  # back before the retries run out

    def settled() -> bool:
        return all(j.state not in (QUEUED, RUNNING) for j in jobs_of(store, [first, second]))

    team.wait_until(settled, "the retries")
    recovered = jobs_of(store, [first])
    assert all(j.state == DONE and j.attempts >= 2 and j.error is None for j in recovered)
    lost = jobs_of(store, [second])
    assert [j.state for j in lost] == [FAILED, FAILED]
    assert all(j.attempts == 4 and f"the original {second} is not in" in j.error for j in lost)
    listed = team.testament("jobs", "--state", "failed").stdout
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in listed.splitlines()]
    assert ["failed", "fingerprint", second[:12], "match", "4"] in [row[1:6] for row in rows]
    assert f"BlobStoreError: the original {second} is not in" in listed
    ws.make_user(store, "ana", "investigator")
    browser = ws.client(store)
    ws.login(browser, "ana")
    page = browser.get(f"/assets/{second}").text
    assert "<h2>Processing</h2>" in page and f"BlobStoreError: the original {second}" in page
    shown = browser.get(f"/api/assets/{second}").json()["jobs"]
    assert {(j["task"], j["state"], j["attempts"]) for j in shown} == {
        ("fingerprint", FAILED, 4),
        ("thumbnails", FAILED, 4),
    }

    shutil.move(*reversed(aside[second]))
    team.testament("ingest", str(folder), "--wait")  # a second run queues the failed again
    assert all(j.state == DONE for j in jobs_of(store, [first, second]))
    results_recorded_once(store, [first, second])
    store.close()
    assert team.testament("verify").returncode == 0


def test_a_worker_killed_mid_task_loses_nothing_and_records_nothing_twice(
    team: Deployment, tmp_path: Path
) -> None:
    folder = tmp_path / "media"
    folder.mkdir()
    # Long enough that some task is still running when a poll under load comes round: three
    # clips of 12 s were fingerprinted in 0.6-0.8 s each, between two polls of a busy CI run.
    for seed in range(21, 26):
        make_video(folder / f"clip{seed}.mp4", seconds=20.0, width=320, height=180, seed=seed)
    store = team.store()
    sha256s = _sha256s(team, folder)
    ingest = team.popen("ingest", str(folder))  # watched from the start: workers begin at once

    def running() -> bool:
        return any(j.state == RUNNING for j in jobs_of(store, sha256s))

    team.wait_until(running, "a task to start", timeout=60, every=0.02)
    team.kill_worker()
    assert ingest.wait(timeout=120) == 0
    assert any(j.state == RUNNING for j in jobs_of(store, sha256s))  # cut short mid-task
    team.start_worker()
    team.testament("ingest", str(folder), "--wait")  # returns once the task has run again
    assert all(j.state == DONE for j in jobs_of(store, sha256s))
    results_recorded_once(store, sha256s)
    store.close()
    assert team.testament("verify").returncode == 0


def test_ingest_killed_during_a_run_with_workers_is_completed_by_a_second_run(
    team: Deployment, tmp_path: Path
) -> None:
    folder = tmp_path / "media"
    # Large enough that preserving them takes longer than a batch may stay open (1 s).
    _images(folder, range(100, 160), width=1280, height=720)
    store = team.store()
    sha256s = _sha256s(team, folder)
    ingest = team.popen("ingest", str(folder))

    def some_committed() -> bool:
        return len(jobs_of(store, sha256s)) > 0

    team.wait_until(some_committed, "the first batch", every=0.02)
    os.killpg(ingest.pid, signal.SIGKILL)
    assert ingest.wait() == -signal.SIGKILL
    preserved_before = {j.subject for j in jobs_of(store, sha256s)}
    assert 0 < len(preserved_before) < len(sha256s)  # killed part-way
    team.testament("ingest", str(folder), "--wait")
    assert all(j.state == DONE for j in jobs_of(store, sha256s))
    assert len(jobs_of(store, sha256s)) == 2 * len(sha256s)
    results_recorded_once(store, sha256s)
    store.close()
    assert team.testament("verify").returncode == 0
