"""The tasks a worker knows: each wraps an ingest step (fingerprinting, previews, ...).

A task is a name, the queue it goes to, and the ingest step that does the work, named
as "module:Class" so that nothing heavy is imported until a worker runs it. Adding one
is a `register(...)` line: the step's class takes a Store and is called with an asset,
and must be idempotent (it checks whether its result is already in the catalog).

A task on a watched post (`subject="post"`) is called with the post's id instead: the
watcher queues the capture of a post's page, which may have no asset at all.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from testament.collect.ingest import Step
    from testament.store import Store

QUEUES = ("ingest", "match", "capture")


@dataclass(frozen=True)
class Task:
    name: str
    queue: str
    step: str  # "module:Class"; the class takes a Store and is an ingest Step
    subject: str = "asset"  # or "post": the step is called with a watched post's id

    def make(self, store: Store) -> Step:
        module, _, name = self.step.partition(":")
        factory: Any = getattr(importlib.import_module(module), name)
        return factory(store)

    @property
    def celery_name(self) -> str:
        return f"testament.{self.name}"


_TASKS: dict[str, Task] = {}


def register(name: str, queue: str, step: str, subject: str = "asset") -> Task:
    if queue not in QUEUES:
        raise ValueError(f"unknown queue {queue!r} (one of {', '.join(QUEUES)})")
    task = Task(name, queue, step, subject)
    _TASKS[name] = task
    return task


def tasks() -> list[Task]:
    return list(_TASKS.values())


def preload(queues: Iterable[str]) -> None:
    """Import the steps of the tasks on these queues (NumPy, FAISS, PyAV, Pillow, ...).

    Called in a worker's main process before its pool forks: every pool process then
    starts with them loaded, instead of each importing them on its first task.
    """
    wanted = set(queues)
    for task in _TASKS.values():
        if task.queue in wanted:
            importlib.import_module(task.step.partition(":")[0])


def named(name: str) -> Task | None:
    return _TASKS.get(name)


def for_step(step: object) -> Task | None:
    """The task that runs this kind of step in a worker, if one is registered."""
    kind = f"{type(step).__module__}:{type(step).__qualname__}"
    return next((task for task in _TASKS.values() if task.step == kind), None)


register("fingerprint", "match", "testament.footage.linking:Fingerprinting")
register("thumbnails", "ingest", "testament.media.thumbnails:Thumbnails")
register("page_capture", "capture", "testament.watch.page_capture:PageCaptures")
register("analyse", "ingest", "testament.enrich.step:Analyses")
register("post_page", "capture", "testament.watch.page_jobs:PostPages", subject="post")
