"""Uploads run in a background thread so that the page can show their progress."""

from __future__ import annotations

import shutil
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from testament.collect.ingest import Ingest, Outcome, Result, default_steps
from testament.collect.items import Collected, Item, Sighting
from testament.collect.sources import collect
from testament.locker.custody import CustodyLog
from testament.store import Store
from testament.web.download_errors import plain_failure


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


class ProgressReporter:
    """The ingest's Reporter, writing into a Job that the progress page reads."""

    def __init__(self, job: Job) -> None:
        self.job = job

    def item_started(self, label: str, size: int | None) -> None:
        self.job.current, self.job.current_size, self.job.bytes_done = label, size, 0

    def bytes_done(self, count: int) -> None:
        self.job.bytes_done += count

    def item_finished(self, result: Result) -> None:
        if result.outcome is Outcome.FAILED and result.message:
            result = replace(result, message=plain_failure(result.label, result.message))
        self.job.results.append(result)
        self.job.current = None


class Jobs:
    """The running and recent uploads of this server process."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def start(
        self, store: Store, owner: str, files: list[tuple[Path, str]], urls: list[str], folder: Path
    ) -> Job:
        """Ingest uploaded `files` (saved path, name given by the browser) and `urls`.

        The custody log names the workbench user; `folder` is removed afterwards.
        """
        job = Job(uuid.uuid4().hex, owner, total=len(files) + len(urls))
        with self._lock:
            self._jobs[job.id] = job
        thread = threading.Thread(
            target=self._run,
            args=(acting_as(store, owner), job, self._items(owner, files, urls), folder),
            daemon=True,
            name=f"upload-{job.id}",
        )
        thread.start()
        return job

    def _run(self, store: Store, job: Job, items: Iterable[Collected], folder: Path) -> None:
        try:
            Ingest(store, ProgressReporter(job), default_steps(store)).run(items)
        except Exception as exc:  # noqa: BLE001 - shown on the progress page, not lost
            job.error = f"{type(exc).__name__}: {exc}"
        finally:
            job.done = True
            shutil.rmtree(folder, ignore_errors=True)

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
