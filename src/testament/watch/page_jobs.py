"""Post pages captured by workers: what the watcher queues with a queue configured.

The watcher commits a post with its page due, then records a `post_page` job for it and
sends the message (see `PageJobs`); a `testament worker` on the `capture` queue runs
`PostPages` on it. The page_captures row is the truth, as in the watcher's own capture:
a page already captured is never captured again, however often a message is delivered,
and a message delivered to two workers at once is captured by one of them (a claim in the
catalog, see `page_claims`).
A failed try keeps its error on the post and is retried by the worker, backing off; a
page that failed for good stops waiting and keeps the error (`jobs` lists the job).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from testament.config import Settings
from testament.jobs import registry, state
from testament.jobs.dispatch import QueueError, celery_app, safe_url
from testament.store import Store
from testament.watch.models import Post, PostCapture
from testament.watch.page_claims import capture_once
from testament.watch.page_records import page_waiting

TASK = "post_page"


def _task() -> registry.Task:
    task = registry.named(TASK)
    assert task is not None
    return task


class PageJobs:
    """The watcher's side: a job row per waiting page, in the caller's transaction, and
    its message once that transaction is committed."""

    def __init__(self, settings: Settings, run: str) -> None:
        self.app = celery_app(settings)
        self.url = safe_url(settings.queue_url or "")
        self.run = run

    def queue(self, session: Session, post_id: int) -> int | None:
        """The job id whose message must be sent (None: running elsewhere, or done)."""
        return state.queue_subject(session, _task(), f"post:{post_id}", self.run)

    def send(self, job_ids: Sequence[int]) -> None:
        if not job_ids:
            return  # each running elsewhere, or done: no connection to open
        task = _task()
        try:
            with self.app.producer_or_acquire() as producer:
                for job_id in job_ids:
                    self.app.send_task(
                        task.celery_name, args=[job_id], queue=task.queue, producer=producer
                    )
        except Exception as exc:
            raise QueueError(f"cannot reach the queue at {self.url}: {exc}") from exc


class PostPages:
    """The worker's side: capture one watched post's page, beside its first capture."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(self, post_id: int) -> None:
        """Capture the post's page unless it is captured already, or being captured by
        another worker handed the same message (then wait for that one to finish)."""
        capture_once(
            self.store, lambda: self._waiting(post_id), lambda ids: self._capture(post_id, ids[0])
        )

    def _waiting(self, post_id: int) -> list[int]:
        """The capture whose page the post waits for, if it still waits."""
        query = (
            select(func.min(PostCapture.capture_id))
            .join(Post, Post.id == PostCapture.post_id)
            .where(Post.id == post_id, page_waiting())
        )
        with self.store.read() as session:
            capture_id = session.execute(query).scalar()
        return [] if capture_id is None else [capture_id]

    def _capture(self, post_id: int, capture_id: int) -> None:
        from testament.watch.page_browser import PageError
        from testament.watch.page_capture import capture_post_pages

        try:
            (result,) = capture_post_pages(self.store, [capture_id])
            error = result.error
        except Exception as exc:  # no browser, or it crashed: kept on the post, retried
            error = str(exc).strip() or type(exc).__name__
            self._tried(post_id, error)
            raise
        self._tried(post_id, error)
        if error is not None:
            raise PageError(error)

    def _tried(self, post_id: int, error: str | None) -> None:
        with self.store.write() as session:
            post = session.get(Post, post_id)
            assert post is not None
            if error is None:
                post.page_due_at, post.page_error = None, None
                return
            post.page_failures += 1
            post.page_error = error[:2000]

    def given_up(self, session: Session, post_id: int) -> None:
        """Failed for good: the page no longer waits; its last error stays on the post."""
        post = session.get(Post, post_id)
        if post is not None and post.page_due_at is not None:
            post.page_due_at = None
            post.page_error = post.page_error or "the page capture failed for good"

    def finish(self) -> None:
        """Nothing is batched."""
