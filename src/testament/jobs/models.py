"""The jobs tables: work queued on assets (tasks) and uploads started in the workbench.

Both live in the catalog so that every worker and every web process sees the same
state: a task queued by `ingest` on one machine and run by a worker on another, or an
upload started through one web process and followed through another.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from testament.catalog.models import Base, utcnow

QUEUED, RUNNING, FAILED, DONE = "queued", "running", "failed", "done"
STATES = (QUEUED, RUNNING, FAILED, DONE)


class TaskRecord(Base):
    """One task on one subject (an asset): its state, attempts and, if it failed, why.

    `(task, subject)` is unique: queuing the same work twice finds the row already there,
    which is what makes a second ingest run, or a redelivered message, add nothing.
    """

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_task_subject", "task", "subject", unique=True),
        Index("ix_jobs_state", "state"),
        Index("ix_jobs_run", "run"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    task: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    queue: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))
    # The ingest run that last queued it, so that `ingest --wait` knows what to wait for.
    run: Mapped[str | None] = mapped_column(String(32))
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class UploadRecord(Base):
    """An upload from the workbench: its progress and per-item results, for any web process."""

    __tablename__ = "upload_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(64))
    total: Mapped[int] = mapped_column(Integer)
    current: Mapped[str | None] = mapped_column(Text)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    current_size: Mapped[int | None] = mapped_column(BigInteger)
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
