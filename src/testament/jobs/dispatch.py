"""What `ingest` does with each asset it has catalogued: run the steps, or queue them.

`ingest` calls `preserved` inside the transaction that records the asset (so a queued
job's row commits with the asset, capture and custody events) and `committed` after that
transaction, which is when steps run in this process or messages go to the broker.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from testament.catalog.models import Asset
from testament.config import QUEUE_RETRY_ENV, QUEUE_VISIBILITY_ENV, Settings
from testament.jobs import registry, state

if TYPE_CHECKING:
    from celery import Celery

    from testament.collect.ingest import Step
    from testament.store import Store


def safe_url(url: str) -> str:
    """The broker's address without its password, for messages and logs."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    host = f"{parts.hostname}:{parts.port}" if parts.port else f"{parts.hostname}"
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


class QueueError(Exception):
    """The broker could not be reached; the jobs stay queued in the catalog."""


class Dispatch(Protocol):
    run: str | None

    def preserved(self, session: Session, asset: Asset) -> None: ...

    def committed(self, assets: Sequence[Asset]) -> None: ...

    def finish(self) -> None: ...


class Inline:
    """The embedded default: every step runs here, right after its asset is committed."""

    run = None

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = list(steps)

    def preserved(self, session: Session, asset: Asset) -> None:
        pass

    def committed(self, assets: Sequence[Asset]) -> None:
        """Each step on the whole batch: a step with a `batch` method takes it at once (one
        look-up and one commit for many small files), any other asset by asset.

        A step with `prepare` and `record` has its work that needs no lock (decoding,
        writing blobs) done in a thread of its own while the steps before it run, and
        records it in its turn, so each asset's custody events keep the steps' order.
        """
        with ThreadPoolExecutor(1, thread_name_prefix="ahead") as ahead:
            prepared = {
                i: ahead.submit(step.prepare, assets)
                for i, step in enumerate(self.steps)
                if hasattr(step, "prepare")
            }
            for i, step in enumerate(self.steps):
                if i in prepared:
                    step.record(prepared[i].result())
                elif (batch := getattr(step, "batch", None)) is not None:
                    batch(assets)
                else:
                    for asset in assets:
                        step(asset)

    def finish(self) -> None:
        for step in self.steps:
            step.finish()


def celery_app(settings: Settings) -> Celery:
    from testament.jobs.celery_app import make_app

    assert settings.queue_url is not None
    return make_app(
        settings.queue_url,
        visibility_timeout=int(os.environ.get(QUEUE_VISIBILITY_ENV) or 3600),
        retry_base=float(os.environ.get(QUEUE_RETRY_ENV) or 10),
    )


class Queued:
    """With a queue: a job row per task in the asset's transaction, a message after it.

    A step with no registered task (one a caller added) still runs here.
    """

    def __init__(self, store: Store, steps: Sequence[Step]) -> None:
        self.run = uuid.uuid4().hex
        self.app = celery_app(store.settings)
        self.url = safe_url(store.settings.queue_url or "")
        self.local: list[Step] = []
        self.remote: list[registry.Task] = []
        for step in steps:
            task = registry.for_step(step)
            if task is None:
                self.local.append(step)
            else:
                self.remote.append(task)
                step.finish()  # made for nothing here; its work happens in a worker
        self._unsent: list[tuple[registry.Task, int]] = []

    def preserved(self, session: Session, asset: Asset) -> None:
        for task in self.remote:
            job_id = state.queue(session, asset, task, self.run)
            if job_id is not None:
                self._unsent.append((task, job_id))

    def committed(self, assets: Sequence[Asset]) -> None:
        Inline(self.local).committed(assets)
        try:
            with self.app.producer_or_acquire() as producer:
                while self._unsent:
                    task, job_id = self._unsent[0]
                    self.app.send_task(
                        task.celery_name, args=[job_id], queue=task.queue, producer=producer
                    )
                    self._unsent.pop(0)
        except Exception as exc:
            raise QueueError(
                f"cannot reach the queue at {self.url}: {exc} (the jobs stay queued; "
                "run the same ingest again to send them)"
            ) from exc

    def finish(self) -> None:
        Inline(self.local).finish()


def dispatch_for(store: Store, steps: Sequence[Step]) -> Dispatch:
    if store.settings.queue_url is None:
        return Inline(steps)
    return Queued(store, steps)
