"""The Celery application: one task per registered step, acknowledged late, retried.

Messages carry only a job id; the jobs table holds the rest. `task_acks_late` with
`task_reject_on_worker_lost` means a message is acknowledged only once its job is done
or recorded as failed, so a worker killed at any moment leaves the message to be
delivered again, to this worker when it restarts or to another (RabbitMQ at once, Redis
once its visibility timeout passes).
"""

from __future__ import annotations

import random
from typing import Any

from celery import Celery
from celery.signals import worker_process_shutdown

from testament.jobs import execute, registry

MAX_RETRIES = 3
RETRY_MAX_S = 600.0


def backoff(retries: int, base: float) -> float:
    """Exponential, with jitter so that jobs failing together do not retry together."""
    return min(RETRY_MAX_S, base * 2**retries) * random.uniform(0.8, 1.2)


def make_app(url: str, *, visibility_timeout: int = 3600, retry_base: float = 10.0) -> Celery:
    app = Celery("testament", broker=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_acks_on_failure_or_timeout=True,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        task_default_queue="ingest",
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": visibility_timeout},
    )
    for task in registry.tasks():
        _define(app, task, retry_base)
    return app


def _define(app: Celery, task: registry.Task, retry_base: float) -> None:
    def run(self: Any, job_id: int) -> None:
        try:
            execute.run_job(task, job_id, f"{self.request.hostname}")
        except Exception as exc:
            final = self.request.retries >= MAX_RETRIES
            execute.record_failure(job_id, exc, f"{self.request.hostname}", final=final, task=task)
            if not final:
                raise self.retry(countdown=backoff(self.request.retries, retry_base)) from exc

    app.task(name=task.celery_name, bind=True, max_retries=MAX_RETRIES, queue=task.queue)(run)


@worker_process_shutdown.connect
def _save_on_shutdown(**_: Any) -> None:
    execute.shutdown()
