"""`testament worker`: run queued tasks (fingerprinting, previews, ...) until stopped."""

from __future__ import annotations

import os
import socket
from typing import Annotated

import typer

from testament.cli.common import DatabaseOption, HomeOption, fail, settings


def worker(
    concurrency: Annotated[
        int | None,
        typer.Option(help="Tasks run at once, each in a process of its own [default: cores]."),
    ] = None,
    queues: Annotated[
        str, typer.Option(help="Queues to take tasks from, comma-separated.")
    ] = "ingest,match,capture",
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Run queued tasks (TESTAMENT_QUEUE_URL), on as many machines as needed."""
    from testament import config
    from testament.jobs.dispatch import celery_app, safe_url
    from testament.jobs.registry import QUEUES, preload
    from testament.store import StoreError, open_store

    chosen = [name.strip() for name in queues.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in QUEUES]
    if unknown or not chosen:
        fail(
            f"--queues: unknown queue {', '.join(unknown) or '(none)'} (known: {', '.join(QUEUES)})"
        )
    if concurrency is not None and concurrency < 1:
        fail("--concurrency: at least 1")
    resolved = settings(home, database_url)
    if resolved.queue_url is None:
        fail(f"no queue configured: set {config.QUEUE_ENV} (redis://... or amqp://...)")
    try:
        open_store(resolved).close()  # brings the schema up to date before any task runs
    except StoreError as exc:
        fail(str(exc))
    # The pool's processes open the store from the environment.
    os.environ[config.HOME_ENV] = str(resolved.home)
    os.environ[config.DATABASE_ENV] = resolved.database_url
    app = celery_app(resolved)
    preload(chosen)
    print(f"worker on {safe_url(resolved.queue_url)}, queues {', '.join(chosen)}", flush=True)
    argv = [
        "worker",
        f"--concurrency={concurrency or os.cpu_count() or 1}",
        f"--queues={','.join(chosen)}",
        f"--hostname=testament-{os.getpid()}@{socket.gethostname()}",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
    ]
    app.worker_main(argv)
