"""Polling one source: each new post's media through the ingest, then the post committed.

Posts come oldest first, a few at a time: their media are downloaded and preserved by the
ingest (blob, asset, capture and custody, idempotent), then one transaction records the
posts, links their captures, writes their alerts and advances the source's cursor to the
last of them. Killed before that transaction, the next run finds the same posts again and
the ingest adds nothing twice; killed after it, the cursor is already past them. A post
key is unique per source and the commit re-checks the lease, so a second watcher never
records a post twice.

With page capture on, a post is committed with its page due; its page is captured right
after the commit, and a capture that failed or never ran (no browser, a crash, a watcher
killed in between) is tried again by the source's later polls, before anything new, oldest
first, backing off per post. A page with a page_captures row is never captured again.
With a queue (`page_jobs`), the page is not captured here: right after the commit it
becomes a `post_page` job for the capture workers (see `testament.watch.page_jobs`), and a
page still waiting once `PAGE_RESEND` has passed (its message lost, a watcher killed before
sending it) is queued again by a later poll.
"""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from testament import __version__
from testament.catalog.models import Capture
from testament.collect.ingest import Ingest, Outcome, Step, capture_key, default_steps
from testament.collect.items import Item, Sighting
from testament.collect.urls import FetchError
from testament.jobs.dispatch import QueueError
from testament.store import Store
from testament.watch import feeds, folder_source, telegram_client, telegram_preview, ytdlp_source
from testament.watch.alerts import add_alert, classify
from testament.watch.found import FoundMedia, FoundPost, LayoutChanged
from testament.watch.lease import LEASE
from testament.watch.models import Post, PostCapture, Source
from testament.watch.net import FetchFailed, Http, RateLimited
from testament.watch.notify import Notifier, deliver
from testament.watch.page_records import page_waiting

if TYPE_CHECKING:
    from testament.watch.page_capture import PageCaptureResult
    from testament.watch.page_jobs import PageJobs

log = logging.getLogger(__name__)

TOOL = f"testament-watch {__version__}"
NO_MEDIA = "the post carries no photo or video"
MAX_BACKOFF = timedelta(hours=6)
# Posts whose media go through one ingest and which commit in one transaction: at most
# this many, and no more than the posts fetched in about a second.
CHUNK_POSTS = 8
CHUNK_SECONDS = 1.0
Poll = Callable[[Http, str, dict[str, Any] | None, datetime | None], Iterator[FoundPost]]
PageCapture = Callable[[Store, list[int]], "Sequence[PageCaptureResult]"]
# Pages waiting from earlier polls that one poll of a source captures first, at most.
PAGES_PER_POLL = 50
# After a failed page capture, the wait before the next try: doubled per failure.
PAGE_RETRY = timedelta(minutes=5)
# A queued page still waiting after this is queued again: longer than a worker's retries
# and the broker's redelivery of a killed worker's message (an hour), so that a job is
# not run twice at once.
PAGE_RESEND = timedelta(hours=2)


class LeaseLost(Exception):
    """Another watcher took the source over (this one was too slow): stop, commit nothing."""


class PostFailed(Exception):
    """A post's media could not be preserved now (the store refused it): retry later."""


def adapter(kind: str) -> Poll:
    if kind == "telegram":
        return telegram_client.poll if telegram_client.configured() else telegram_preview.poll
    return {"feed": feeds.poll, "ytdlp": ytdlp_source.poll, "folder": folder_source.poll}[kind]


class _Deferred:
    """An ingest step whose finish (saving the hash index) waits for the end of the poll."""

    def __init__(self, step: Step) -> None:
        self.step = step

    def __call__(self, asset: Any) -> None:
        self.step(asset)

    def finish(self) -> None:
        pass


@dataclass
class PollOutcome:
    source_id: int
    posts: int = 0
    media: int = 0
    already: int = 0
    error: str | None = None
    alert_ids: list[int] = field(default_factory=list)
    pages: int = 0  # pages captured
    pages_failed: int = 0
    pages_queued: int = 0  # pages sent to the capture workers
    page_error: str | None = None
    browser_down: bool = False  # page capture failed as a whole: no more tries this poll


def _clean(text: str | None, limit: int | None = None) -> str | None:
    """Post text as the catalog can hold it: NULs and broken surrogates replaced, kept inert."""
    if text is None:
        return None
    text = text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")
    return text[:limit] if limit else text


def _filename(media: FoundMedia, index: int) -> str:
    name = Path(urlsplit(media.url or "").path).name
    safe = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in name)[-80:]
    return f"{index:02d}-{safe or media.kind}"


class Watcher:
    """Polls sources for one store; one per process, reused across rounds."""

    def __init__(
        self,
        store: Store,
        owner: str,
        http: Http | None = None,
        notifier: Notifier | None = None,
        page_capture: PageCapture | None = None,
        steps: list[Step] | None = None,
        page_jobs: PageJobs | None = None,
    ) -> None:
        self.store = store
        self.owner = owner
        self.http = http or Http()
        self.notifier = notifier or Notifier.from_env()
        self.page_capture = page_capture
        self.page_jobs = page_jobs
        self.steps = list(default_steps(store) if steps is None else steps)
        self.ingest = Ingest(store, steps=[_Deferred(s) for s in self.steps])

    def finish(self) -> None:
        """Once a round is done: the steps' own finishing (saving the hash index)."""
        for step in self.steps:
            step.finish()

    def poll(self, source_id: int) -> PollOutcome:
        """Collect what is new on a source whose lease this watcher holds; release the lease.

        Call `finish` once the round's polls are done.
        """
        outcome = PollOutcome(source_id)
        with self.store.read() as session:
            source = session.get(Source, source_id)
            assert source is not None
            kind, url, cursor, since = source.kind, source.url, source.cursor, source.since
        retry_after = None
        try:
            self._capture_pages(source_id, outcome)
            chunk: list[FoundPost] = []
            for post in adapter(kind)(self.http, url, cursor, since):
                chunk.append(post)
                if len(chunk) >= CHUNK_POSTS:
                    self._chunk(source_id, chunk, outcome)
                    chunk = []
            self._chunk(source_id, chunk, outcome)
        except RateLimited as exc:
            outcome.error, retry_after = str(exc), exc.retry_after
        except (FetchFailed, FetchError, LayoutChanged, PostFailed) as exc:
            outcome.error = str(exc)
        except LeaseLost:
            return outcome
        except Exception as exc:
            log.exception("source %s failed", source_id)
            outcome.error = f"{type(exc).__name__}: {exc}"
        self._finished(source_id, outcome, retry_after)
        return outcome

    def _exists(self, source_id: int, key: str) -> bool:
        with self.store.read() as session:
            query = select(Post.id).where(Post.source_id == source_id, Post.post_key == key)
            return session.execute(query).first() is not None

    def _sighting(self, post: FoundPost, media: FoundMedia | None) -> Sighting:
        return Sighting(
            method="watch",
            platform=post.platform,
            url=post.url,
            channel=_clean(post.channel),
            channel_id=_clean(post.channel_id, 128),
            post_id=_clean((media.post_id if media else None) or post.key, 128),
            post_text=_clean(post.text),
            posted_at=post.posted_at,
            forwarded_from=_clean(post.forwarded_from),
            views=post.views,
            tool=TOOL,
            raw={
                **(post.raw or {}),
                "author": _clean(post.author),
                "media_url": media.url if media else None,
                "media_kind": media.kind if media else None,
            },
        )

    def _items(self, post: FoundPost, folder: Path) -> list[Item]:
        """One item per media file (downloaded here), or one without media saying why."""
        items: list[Item] = []
        for index, media in enumerate(post.media):
            sighting = self._sighting(post, media)
            label = f"{post.url or post.key} [{index + 1}]"
            if media.missing_reason:
                items.append(Item(label, sighting, missing_reason=media.missing_reason))
            elif media.path is not None:
                items.append(
                    Item(
                        label,
                        replace(sighting, filename=media.path.name, source_path=str(media.path)),
                        path=media.path,
                    )
                )
            elif media.url:
                target = folder / _filename(media, index)
                try:
                    self.http.download(media.url, target)
                except RateLimited:
                    raise
                except FetchFailed as exc:
                    if exc.status is None:
                        raise  # a network error: try the whole post again later
                    items.append(Item(label, sighting, missing_reason=f"download failed: {exc}"))
                    continue
                items.append(Item(label, replace(sighting, filename=target.name), path=target))
            elif media.fetch is not None:
                where = folder / f"fetch-{index}"
                where.mkdir()
                try:
                    downloads = media.fetch(where)
                except (FetchError, FetchFailed) as exc:
                    items.append(Item(label, sighting, missing_reason=f"download failed: {exc}"))
                    continue
                for d in downloads:
                    fetched = replace(sighting, raw=None, tool=None, filename=d.path.name)
                    fetched = fetched.merged(d.sighting)
                    items.append(Item(f"{label} ({d.path.name})", fetched, path=d.path))
        if not items:
            items.append(
                Item(post.url or post.key, self._sighting(post, None), missing_reason=NO_MEDIA)
            )
        return items

    def _chunk(self, source_id: int, posts: list[FoundPost], outcome: PollOutcome) -> None:
        """Preserve the media of a few posts in one ingest, then commit the posts together.

        If fetching a post's media fails part-way, the posts before it are still committed.
        """
        fresh = []
        for post in posts:
            post = replace(post, key=_key(post.key))
            if self._exists(source_id, post.key):
                outcome.already += 1
            else:
                fresh.append(post)
        if not fresh:
            return
        with tempfile.TemporaryDirectory(prefix="testament-watch-") as folder:
            batch: list[tuple[FoundPost, list[Item]]] = []
            started = time.monotonic()
            try:
                for index, post in enumerate(fresh):
                    where = Path(folder) / str(index)
                    where.mkdir()
                    batch.append((post, self._items(post, where)))
                    if time.monotonic() - started >= CHUNK_SECONDS:
                        ready, batch = batch, []
                        self._preserve(source_id, ready, outcome)
                        started = time.monotonic()
            finally:
                if batch:
                    self._preserve(source_id, batch, outcome)

    def _preserve(
        self, source_id: int, batch: list[tuple[FoundPost, list[Item]]], outcome: PollOutcome
    ) -> None:
        items = [item for _, post_items in batch for item in post_items]
        summary = self.ingest.run(items)
        failed = [r for r in summary.results if r.outcome is Outcome.FAILED]
        if failed:
            raise PostFailed(f"{failed[0].label}: {failed[0].message}")
        results = iter(summary.results)
        keyed = [
            (post, [capture_key(next(results).sha256, item.sighting) for item in post_items])
            for post, post_items in batch
        ]
        committed = self._commit(source_id, keyed)
        outcome.already += len(batch) - len(committed)
        outcome.posts += len(committed)
        outcome.media += sum(1 for r in summary.results if r.sha256)
        alert_ids = [alert_id for _, alert_id in committed]
        outcome.alert_ids += alert_ids
        deliver(self.store, self.notifier, alert_ids)
        if committed:
            self._capture_pages(source_id, outcome, [post.key for post, _ in committed])

    def _capture_pages(
        self, source_id: int, outcome: PollOutcome, keys: list[str] | None = None
    ) -> None:
        """Pages waiting for capture, each beside its post's first capture: those of the
        posts just committed (`keys`), or the oldest due from earlier polls."""
        if not self._pages_on or outcome.browser_down:
            return
        now = datetime.now(UTC)
        query = (
            select(Post.id, func.min(PostCapture.capture_id))
            .join(PostCapture, PostCapture.post_id == Post.id)
            .where(Post.source_id == source_id, page_waiting())
            .group_by(Post.id)
            .order_by(Post.id)
        )
        if keys is None:
            query = query.where(Post.page_due_at <= now).limit(PAGES_PER_POLL)
        else:
            query = query.where(Post.post_key.in_(keys))
        job_ids: list[int] = []
        with self.store.write() as session:  # the lease covers the pages of its posts too
            source = session.get(Source, source_id)
            assert source is not None
            if source.lease_owner != self.owner:
                raise LeaseLost
            source.lease_until = now + LEASE
            rows = session.execute(query).all()
            if self.page_jobs is not None and rows:
                job_ids = self._queue_pages(session, [post_id for post_id, _ in rows], now)
        if not rows:
            return
        if self.page_jobs is not None:
            self._send_pages(self.page_jobs, [post_id for post_id, _ in rows], job_ids, outcome)
            return
        assert self.page_capture is not None
        try:
            errors = [r.error for r in self.page_capture(self.store, [c for _, c in rows])]
        # No browser, or it crashed: none was captured; each post keeps the error, to retry.
        except Exception as exc:  # noqa: BLE001 - recorded per post and reported
            log.warning("page capture for source %s failed: %s", source_id, exc)
            outcome.browser_down = True
            errors = [str(exc).strip() or type(exc).__name__] * len(rows)
        self._pages_tried([post_id for post_id, _ in rows], errors, outcome)

    @property
    def _pages_on(self) -> bool:
        return self.page_capture is not None or self.page_jobs is not None

    def _queue_pages(self, session: Session, post_ids: list[int], now: datetime) -> list[int]:
        """A job per page (in the lease's transaction); each due again after PAGE_RESEND."""
        assert self.page_jobs is not None
        queued = [self.page_jobs.queue(session, post_id) for post_id in post_ids]
        session.execute(
            update(Post).where(Post.id.in_(post_ids)).values(page_due_at=now + PAGE_RESEND)
        )
        return [job_id for job_id in queued if job_id is not None]

    def _send_pages(
        self, jobs: PageJobs, post_ids: list[int], job_ids: list[int], outcome: PollOutcome
    ) -> None:
        """The jobs' messages; a broker out of reach leaves each page due again soon."""
        try:
            jobs.send(job_ids)
        except QueueError as exc:
            log.warning("%s", exc)
            outcome.browser_down = True
            self._pages_tried(post_ids, [str(exc)] * len(post_ids), outcome)
            return
        outcome.pages_queued += len(job_ids)

    def _pages_tried(
        self, post_ids: list[int], errors: list[str | None], outcome: PollOutcome
    ) -> None:
        """Each post's page done, or due again later (backing off) with its error kept."""
        now = datetime.now(UTC)
        with self.store.write() as session:
            for post_id, error in zip(post_ids, errors, strict=True):
                post = session.get(Post, post_id)
                assert post is not None
                if error is None:
                    post.page_due_at, post.page_error = None, None
                    outcome.pages += 1
                    continue
                post.page_failures += 1
                post.page_error = error[:2000]
                post.page_due_at = now + min(
                    PAGE_RETRY * 2 ** (post.page_failures - 1), MAX_BACKOFF
                )
                outcome.pages_failed += 1
                outcome.page_error = post.page_error

    def _commit(
        self, source_id: int, keyed: list[tuple[FoundPost, list[str]]]
    ) -> list[tuple[FoundPost, int]]:
        """The posts, their captures, their alerts and the cursor, in one transaction."""
        now = datetime.now(UTC)
        committed = []
        with self.store.write() as session:
            source = session.get(Source, source_id)
            assert source is not None
            if source.lease_owner != self.owner:
                raise LeaseLost
            every = [k for _, keys in keyed for k in keys]
            ids = dict(
                session.execute(select(Capture.key, Capture.id).where(Capture.key.in_(every))).all()
            )
            for index, (post, keys) in enumerate(keyed):
                later = frozenset(ids[k] for _, ks in keyed[index + 1 :] for k in ks) - {
                    ids[k] for k in keys
                }
                alert_id = self._record(session, source, post, keys, now, later)
                if alert_id is not None:
                    committed.append((post, alert_id))
            source.lease_until = now + LEASE
        return committed

    def _record(
        self,
        session: Session,
        source: Source,
        post: FoundPost,
        keys: list[str],
        now: datetime,
        later: frozenset[int],
    ) -> int | None:
        query = select(Post.id).where(Post.source_id == source.id, Post.post_key == post.key)
        if session.execute(query).first() is not None:
            return None
        found = session.execute(select(Capture).where(Capture.key.in_(keys))).scalars()
        by_key = {c.key: c for c in found}
        captures = [by_key[k] for k in dict.fromkeys(keys)]
        row = Post(
            source_id=source.id,
            post_key=post.key,
            url=post.url,
            channel=_clean(post.channel),
            author=_clean(post.author),
            text=_clean(post.text),
            posted_at=post.posted_at,
            found_at=now,
            media_count=sum(1 for c in captures if c.asset_id is not None),
            missing_count=sum(1 for c in captures if c.asset_id is None),
            state="online",
            raw=post.raw,
            page_due_at=now if self._pages_on and _visitable(post.url) else None,
        )
        session.add(row)
        session.flush()
        session.add_all(PostCapture(post_id=row.id, capture_id=c.id) for c in captures)
        verdict = classify(session, row, captures, later)
        alert = add_alert(
            session,
            verdict.kind,
            verdict.message,
            source=source,
            post=row,
            capture_id=verdict.capture_id,
            asset_id=verdict.asset_id,
            details=verdict.details,
        )
        if post.cursor is not None:
            source.cursor = post.cursor
        source.posts_count += 1
        source.media_count += row.media_count
        return alert.id

    def _finished(self, source_id: int, outcome: PollOutcome, retry_after: float | None) -> None:
        now = datetime.now(UTC)
        alert_id = None
        with self.store.write() as session:
            source = session.get(Source, source_id)
            assert source is not None
            source.last_run_at = now
            if source.lease_owner == self.owner:
                source.lease_owner, source.lease_until = None, None
            every = timedelta(seconds=source.every_seconds)
            if outcome.error is None:
                source.failures = 0
                source.last_error = None
                source.last_success_at = now
                source.next_run_at = now + every
                return
            source.failures += 1
            source.last_error = outcome.error[:2000]
            source.last_error_at = now
            wait = min(every * 2 ** (source.failures - 1), max(MAX_BACKOFF, every))
            if retry_after is not None:
                wait = max(wait, timedelta(seconds=retry_after))
            source.next_run_at = now + wait
            if source.failures == 1:  # one alert when a source starts failing, not one a round
                alert_id = add_alert(
                    session,
                    "source_error",
                    f"{source.name}: {outcome.error}",
                    source=source,
                    details={"error": outcome.error, "retry_at": source.next_run_at.isoformat()},
                ).id
        if alert_id is not None:
            outcome.alert_ids.append(alert_id)
            deliver(self.store, self.notifier, [alert_id])


def _key(key: str) -> str:
    """Post keys fit the column; a longer one (a feed's URL id) is kept by its digest."""
    return key if len(key) <= 200 else "sha256:" + hashlib.sha256(key.encode()).hexdigest()


def _visitable(url: str | None) -> bool:
    """Whether a post's address is a web page that a browser can capture."""
    parts = urlsplit(url or "")
    return parts.scheme in ("http", "https") and bool(parts.netloc)
