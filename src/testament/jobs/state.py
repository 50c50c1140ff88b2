"""The jobs table's transitions: queued, running, failed (with the error), done.

A worker marks a job running before it works and done after; a redelivered message
(a worker killed mid-task, a broker that restored an unacknowledged message) finds the
job done and does nothing, and the step itself checks the catalog, so a result is
recorded once however often a task runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from testament.catalog.models import Asset
from testament.jobs.models import DONE, FAILED, QUEUED, RUNNING, STATES, TaskRecord
from testament.jobs.registry import Task

ERROR_LIMIT = 4000  # the end of a traceback says the most; the whole would swamp the page


def queue(session: Session, asset: Asset, task: Task, run: str) -> int | None:
    """Record that `task` is to run on `asset` (in the caller's transaction).

    Returns the job id when a message must be sent: for a new job, or one queued or failed
    before (its message may never have been sent, as when `ingest` was killed after its
    commit). A job running elsewhere, or done, needs none.
    """
    return queue_subject(session, task, f"asset:{asset.sha256}", run, asset.id)


def queue_subject(
    session: Session, task: Task, subject: str, run: str, asset_id: int | None = None
) -> int | None:
    """`queue` for any subject (`post:<id>` for a watched post's page); the same answer."""
    record = session.execute(
        select(TaskRecord).where(TaskRecord.task == task.name, TaskRecord.subject == subject)
    ).scalar_one_or_none()
    if record is None:
        record = TaskRecord(
            task=task.name, subject=subject, asset_id=asset_id, queue=task.queue, run=run
        )
        record.state, record.attempts = QUEUED, 0
        session.add(record)
        session.flush()
        return record.id
    if record.state == DONE:
        return None
    record.run = run
    if record.state == RUNNING:
        return None
    if record.state == FAILED:
        record.attempts = 0  # a person's new run: as many tries again
    record.state = QUEUED
    return record.id


@dataclass(frozen=True)
class Started:
    """A job just marked running: its attempt number and what it is to run on."""

    attempt: int
    asset_id: int | None
    subject: str


def start(session: Session, job_id: int, worker: str) -> Started | None:
    """Mark a job running, in one statement; None if it is done (a redelivered message)
    or gone."""
    row = session.execute(
        update(TaskRecord)
        .where(TaskRecord.id == job_id, TaskRecord.state != DONE)
        .values(
            state=RUNNING,
            attempts=TaskRecord.attempts + 1,
            started_at=datetime.now(UTC),
            worker=worker[:200],
        )
        .returning(TaskRecord.attempts, TaskRecord.asset_id, TaskRecord.subject)
    ).one_or_none()
    return None if row is None else Started(row.attempts, row.asset_id, row.subject)


def finish(session: Session, job_id: int) -> None:
    session.execute(
        update(TaskRecord)
        .where(TaskRecord.id == job_id)
        .values(state=DONE, error=None, finished_at=datetime.now(UTC))
    )


def fail(session: Session, job_id: int, error: str, *, final: bool) -> None:
    """Record the error; a job that will be retried goes back to queued."""
    session.execute(
        update(TaskRecord)
        .where(TaskRecord.id == job_id)
        .values(
            state=FAILED if final else QUEUED,
            error=error[-ERROR_LIMIT:],
            finished_at=datetime.now(UTC) if final else None,
        )
    )


def pending(session: Session, run: str) -> int:
    """Jobs of one ingest run still queued or running."""
    query = select(func.count()).where(
        TaskRecord.run == run, TaskRecord.state.in_((QUEUED, RUNNING))
    )
    return session.execute(query).scalar_one()


def failed_in_run(session: Session, run: str) -> list[TaskRecord]:
    query = select(TaskRecord).where(TaskRecord.run == run, TaskRecord.state == FAILED)
    return list(session.execute(query.order_by(TaskRecord.id)).scalars())


def counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(TaskRecord.state, func.count()).group_by(TaskRecord.state))
    found: dict[str, int] = {state: count for state, count in rows.all()}
    return {state: found.get(state, 0) for state in STATES}


def listing(
    session: Session, states: Iterable[str] | None = None, limit: int = 100
) -> list[TaskRecord]:
    """The most recent jobs, newest first (failed ones first of all: they need a person)."""
    query = select(TaskRecord)
    if states:
        query = query.where(TaskRecord.state.in_(list(states)))
    query = query.order_by((TaskRecord.state == FAILED).desc(), TaskRecord.id.desc())
    return list(session.execute(query.limit(limit)).scalars())


def for_asset(session: Session, asset_id: int) -> list[TaskRecord]:
    query = select(TaskRecord).where(TaskRecord.asset_id == asset_id).order_by(TaskRecord.id)
    return list(session.execute(query).scalars())


@dataclass(frozen=True)
class JobView:
    """A job as the CLI, the JSON API and the asset page show it."""

    id: int
    task: str
    subject: str
    queue: str
    state: str
    attempts: int
    error: str | None
    worker: str | None
    queued_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, record: TaskRecord) -> JobView:
        return cls(
            record.id,
            record.task,
            record.subject,
            record.queue,
            record.state,
            record.attempts,
            record.error,
            record.worker,
            record.queued_at,
            record.started_at,
            record.finished_at,
        )

    def as_dict(self) -> dict[str, Any]:
        def iso(moment: datetime | None) -> str | None:
            return None if moment is None else moment.isoformat().replace("+00:00", "Z")

        return {
            "id": self.id,
            "task": self.task,
            "subject": self.subject,
            "queue": self.queue,
            "state": self.state,
            "attempts": self.attempts,
            "error": self.error,
            "worker": self.worker,
            "queued_at": iso(self.queued_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
        }
