"""Running one job in a worker process: its store and steps, opened once per process.

A pool process opens the store on its first task (after the fork, so no database
connection is shared between processes) and keeps one instance of each step, so that
the fingerprinting step's hash index is loaded once and only caught up before each match.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament import config
from testament.catalog.models import Asset
from testament.collect.ingest import Step
from testament.jobs import state
from testament.jobs.models import TaskRecord
from testament.jobs.registry import Task
from testament.locker.blobstore import BlobStoreError
from testament.store import Store, open_store

# How often a worker writes its caught-up hash index back to the index folder, so that a
# process starting later loads a recent copy instead of catching up from far behind.
SAVE_EVERY_S = 60.0
# Tries of one job before it is failed for good, counting attempts whose process died
# (those never reach Celery's retry count): 1 + 3 retries, and 2 deaths more.
MAX_ATTEMPTS = 6


@dataclass
class _Process:
    pid: int
    store: Store
    steps: dict[str, Step] = field(default_factory=dict)
    saved_at: float = field(default_factory=time.monotonic)

    def step(self, task: Task) -> Step:
        if task.name not in self.steps:
            self.steps[task.name] = task.make(self.store)
        return self.steps[task.name]

    def save(self) -> None:
        for step in self.steps.values():
            step.finish()
        self.saved_at = time.monotonic()


_current: _Process | None = None


def worker_actor(worker: str) -> str:
    """Who a worker's custody events name: the worker itself (its Celery name, which says
    the machine and process), unless the deployment names an actor for it."""
    return os.environ.get(config.ACTOR_ENV) or f"worker:{worker}"


def _process(worker: str) -> _Process:
    global _current
    if _current is None or _current.pid != os.getpid():
        store = open_store(config.resolve(actor=worker_actor(worker)))
        _current = _Process(os.getpid(), store)
    return _current


def run_job(task: Task, job_id: int, worker: str) -> None:
    """Do one job; an exception leaves it running, for the caller to retry or fail."""
    process = _process(worker)
    store = process.store
    with store.read() as session, session.begin():
        started = state.start(session, job_id, worker)
        if started is None:
            return  # done already: a message delivered again after it was acknowledged late
        if started.attempt > MAX_ATTEMPTS:
            # Each earlier attempt's process died before it could record anything (killed,
            # out of memory, a crash in a decoder): a message that kills its worker is not
            # delivered for ever.
            state.fail(
                session,
                job_id,
                f"WorkerLost: the worker running it stopped {started.attempt - 1} times before "
                "it finished (killed, out of memory, or a crash decoding the original)",
                final=True,
            )
            _given_up(process, task, session, job_id)
            return
        # The asset is read in the transaction that marks the job running: one round trip
        # to the catalog fewer for every task.
        asset = None
        if task.subject != "post" and started.asset_id is not None:
            asset = session.get(Asset, started.asset_id)
    if task.subject == "post":
        process.step(task)(int(started.subject.removeprefix("post:")))
    else:
        _run_on_asset(process, task, job_id, started.asset_id, asset)
    with store.read() as session, session.begin():
        state.finish(session, job_id)
    if time.monotonic() - process.saved_at > SAVE_EVERY_S:
        process.save()


def _run_on_asset(
    process: _Process, task: Task, job_id: int, asset_id: int | None, asset: Asset | None
) -> None:
    store = process.store
    if asset is None:
        raise LookupError(f"job {job_id}: asset #{asset_id} is not in the catalog")
    if not store.blobs.exists(asset.sha256):
        # Steps record what they could not read (a fingerprint error, no previews): a
        # missing original must fail the job, to be retried, never become such a result.
        raise BlobStoreError(f"the original {asset.sha256} is not in {store.blobs.url}")
    process.step(task)(asset)


def record_failure(
    job_id: int, exc: BaseException, worker: str, *, final: bool, task: Task | None = None
) -> None:
    """Keep the error with the job: the last lines of the traceback, which name the cause."""
    text = "".join(traceback.format_exception(exc)).strip()
    summary = f"{type(exc).__name__}: {exc}"
    process = _process(worker)
    with process.store.read() as session, session.begin():
        state.fail(session, job_id, f"{summary}\n\n{text}", final=final)
        if final and task is not None:
            _given_up(process, task, session, job_id)


def _given_up(process: _Process, task: Task, session: Session, job_id: int) -> None:
    """Tell a post's step that its job failed for good (the page then stops waiting), in
    the transaction that records it."""
    if task.subject != "post":
        return
    subject = session.execute(select(TaskRecord.subject).where(TaskRecord.id == job_id)).scalar()
    if subject is not None:
        process.step(task).given_up(session, int(subject.removeprefix("post:")))


def shutdown() -> None:
    """Save what the steps keep (the hash index) when a worker process stops."""
    global _current
    if _current is not None and _current.pid == os.getpid():
        _current.save()
        _current.store.close()
    _current = None
