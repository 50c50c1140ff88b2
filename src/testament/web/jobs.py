"""Uploads run in a background thread; their progress lives in the catalog.

The thread runs in the web process that received the files, but every web process
reads the same `upload_jobs` row, so the progress page works whichever process behind
the port answers it. Progress is written at most every PROGRESS_EVERY_S seconds (and
once at the end), so a large upload does not write a row for every chunk it copies.
"""

from __future__ import annotations

import shutil
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import update

from testament.collect.ingest import Ingest, Outcome, Result, default_steps
from testament.collect.items import Collected, Item, Sighting
from testament.collect.sources import collect
from testament.jobs.models import UploadRecord
from testament.locker.custody import CustodyLog
from testament.store import Store
from testament.web.download_errors import plain_failure

PROGRESS_EVERY_S = 0.5


@dataclass
class Job:
    id: str
    owner: str
    total: int
    current: str | None = None
    bytes_done: int = 0
    current_size: int | None = None
    results: list[Result] = field(default_factory=list)
    error: str | None = None
    done: bool = False

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.outcome is Outcome.FAILED]

    @property
    def state(self) -> str:
        """In a word or three: running, finished, failed, or finished with some failed."""
        if not self.done:
            return "running"
        if self.error or (self.results and len(self.failures) == len(self.results)):
            return "failed"
        if self.failures:
            return f"finished, {len(self.failures)} of {len(self.results)} failed"
        return "finished"

    @classmethod
    def of(cls, record: UploadRecord) -> Job:
        results = [
            Result(r["label"], Outcome(r["outcome"]), r["sha256"], r["new_capture"], r["message"])
            for r in record.results
        ]
        return cls(
            record.id,
            record.owner,
            record.total,
            record.current,
            record.bytes_done,
            record.current_size,
            results,
            record.error,
            record.done,
        )


def _result_dict(result: Result) -> dict[str, Any]:
    return {
        "label": result.label,
        "outcome": result.outcome.value,
        "sha256": result.sha256,
        "new_capture": result.new_capture,
        "message": result.message,
    }


class ProgressReporter:
    """The ingest's Reporter, keeping a Job and writing it to its row now and then."""

    def __init__(self, store: Store, job: Job) -> None:
        self.store = store
        self.job = job
        self._written = 0.0

    def item_started(self, label: str, size: int | None) -> None:
        self.job.current, self.job.current_size, self.job.bytes_done = label, size, 0
        self.save()

    def bytes_done(self, count: int) -> None:
        self.job.bytes_done += count
        self.save()

    def item_finished(self, result: Result) -> None:
        if result.outcome is Outcome.FAILED and result.message:
            result = replace(result, message=plain_failure(result.label, result.message))
        self.job.results.append(result)
        self.job.current = None
        self.save()

    def save(self, *, now: bool = False) -> None:
        if not now and time.monotonic() - self._written < PROGRESS_EVERY_S:
            return
        job = self.job
        with self.store.read() as session, session.begin():
            session.execute(
                update(UploadRecord)
                .where(UploadRecord.id == job.id)
                .values(
                    current=job.current,
                    bytes_done=job.bytes_done,
                    current_size=job.current_size,
                    results=[_result_dict(r) for r in job.results],
                    error=job.error,
                    done=job.done,
                    updated_at=datetime.now(UTC),
                )
            )
        self._written = time.monotonic()


class Jobs:
    """Uploads started by any web process of this store, read from the catalog.

    The threads this process started are kept, so that shutting down waits for their
    uploads to be preserved rather than cutting them off part-way.
    """

    def __init__(self) -> None:
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    def get(self, store: Store, job_id: str) -> Job | None:
        with store.read() as session:
            record = session.get(UploadRecord, job_id)
            return None if record is None else Job.of(record)

    def start(
        self, store: Store, owner: str, files: list[tuple[Path, str]], urls: list[str], folder: Path
    ) -> Job:
        """Ingest uploaded `files` (saved path, name given by the browser) and `urls`.

        The custody log names the workbench user; `folder` is removed afterwards.
        """
        job = Job(uuid.uuid4().hex, owner, total=len(files) + len(urls))
        with store.read() as session, session.begin():
            session.add(UploadRecord(id=job.id, owner=owner, total=job.total, results=[]))
        thread = threading.Thread(
            target=self._run,
            args=(acting_as(store, owner), job, self._items(owner, files, urls), folder),
            daemon=True,
            name=f"upload-{job.id}",
        )
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()
        return job

    def running(self) -> int:
        with self._lock:
            return sum(t.is_alive() for t in self._threads)

    def wait(self) -> None:
        """Block until every upload this process started has finished."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join()

    def _run(self, store: Store, job: Job, items: Iterable[Collected], folder: Path) -> None:
        reporter = ProgressReporter(store, job)
        try:
            Ingest(store, reporter, default_steps(store)).run(items)
        except Exception as exc:  # noqa: BLE001 - shown on the progress page, not lost
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            job.done = True
            shutil.rmtree(folder, ignore_errors=True)
            reporter.save(now=True)

    @staticmethod
    def _items(owner: str, files: list[tuple[Path, str]], urls: list[str]) -> Iterable[Collected]:
        note = f"uploaded in the workbench by {owner}"
        for path, name in files:
            yield Item(name, Sighting(method="upload", filename=name, note=note), path=path)
        for url in urls:
            yield from collect(url, Sighting(method="url", note=note))


def acting_as(store: Store, username: str) -> Store:
    """The same store, with custody events attributed to a workbench user."""
    actor = f"web:{username}"
    custody = CustodyLog(store.signer, actor, store.settings.custody_head_path)
    return replace(store, settings=replace(store.settings, actor=actor), custody=custody)
