"""The jobs table's rules, without a broker: what a worker does with one job id."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, update

from testament import config
from testament.catalog.models import Asset, CustodyEvent
from testament.collect.ingest import Ingest
from testament.collect.items import Item, Sighting
from testament.jobs import execute, registry, state
from testament.jobs.models import DONE, FAILED, QUEUED, TaskRecord
from testament.store import Store
from tests.media import make_image


def _queued(store: Store, tmp_path: Path) -> tuple[Asset, int]:
    image = make_image(tmp_path / "still.png", seed=5, width=96, height=64)
    Ingest(store, steps=[]).run([Item("still.png", Sighting(method="file"), path=image)])
    task = registry.named("fingerprint")
    assert task is not None
    with store.write() as session:
        asset = session.query(Asset).one()
        job_id = state.queue(session, asset, task, "run1")
    assert job_id is not None
    return asset, job_id


def test_a_job_whose_worker_keeps_dying_is_failed_for_good(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.HOME_ENV, str(store.settings.home))
    monkeypatch.setenv(config.DATABASE_ENV, store.settings.database_url)
    monkeypatch.delenv(config.ACTOR_ENV, raising=False)
    execute.shutdown()  # a worker process opens the store it is given, once
    asset, job_id = _queued(store, tmp_path)
    task = registry.named("fingerprint")
    assert task is not None
    with store.write() as session:  # six deliveries whose process died mid-task
        session.execute(update(TaskRecord).values(attempts=execute.MAX_ATTEMPTS))
    execute.run_job(task, job_id, "worker-a")
    with store.read() as session:
        job = session.get(TaskRecord, job_id)
        assert job is not None and job.state == FAILED
        assert job.error is not None and job.error.startswith("WorkerLost: ")
    with store.write() as session:  # a second run gives it every try again
        assert state.queue(session, asset, task, "run2") == job_id
    execute.run_job(task, job_id, "worker-a")
    execute.shutdown()
    with store.read() as session:
        job = session.get(TaskRecord, job_id)
        assert job is not None and (job.state, job.attempts, job.run) == (DONE, 1, "run2")
        assert state.queue(session, asset, task, "run3") is None  # done: nothing to send
        assert state.pending(session, "run2") == 0
        assert state.counts(session) == {QUEUED: 0, "running": 0, FAILED: 0, DONE: 1}
        fingerprinted = session.execute(
            select(CustodyEvent.actor).where(CustodyEvent.action == "fingerprinted")
        ).scalar_one()
        assert fingerprinted == "worker:worker-a"  # the worker did it, not its OS user
