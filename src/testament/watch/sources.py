"""Adding, listing, pausing and removing watched sources; the kind guessed from the address."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select

from testament.catalog.records import iso
from testament.collect.urls import is_url
from testament.store import Store
from testament.watch.models import Source

KINDS = ("telegram", "feed", "ytdlp", "folder")
DEFAULT_EVERY = timedelta(minutes=15)
DURATION = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
FEED_ENDINGS = (".xml", ".rss", ".atom", "/feed", "/rss", "/atom", "/feed/")


class SourceError(Exception):
    """A source that cannot be added or found; the message is one line."""


def parse_duration(text: str) -> timedelta:
    """15m, 2h, 7d, 30s, 1w."""
    found = DURATION.match(text)
    if not found or int(found.group(1)) == 0:
        raise SourceError(f"{text!r} is not a duration (say 30s, 15m, 2h, 7d or 1w)")
    return timedelta(seconds=int(found.group(1)) * UNITS[found.group(2)])


def parse_since(text: str) -> datetime:
    """A date or a moment (ISO 8601), taken as UTC when it names no zone."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SourceError(f"{text!r} is not a date (say 2020-12-10)") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def guess_kind(address: str) -> str:
    """telegram for t.me, feed for feed-like addresses, ytdlp for other URLs, else folder."""
    if not is_url(address):
        return "folder"
    parts = urlsplit(address)
    host = parts.netloc.lower().removeprefix("www.")
    if host in ("t.me", "telegram.me"):
        return "telegram"
    path = parts.path.lower()
    if path.endswith(FEED_ENDINGS) or "format=rss" in parts.query.lower():
        return "feed"
    return "ytdlp"


def _name(kind: str, address: str) -> str:
    if kind == "telegram":
        from testament.watch.telegram_preview import channel_of

        try:
            return channel_of(address)[1]
        except ValueError as exc:
            raise SourceError(str(exc)) from None
    if kind == "folder":
        return Path(address).name or address
    parts = urlsplit(address)
    return (parts.netloc + parts.path).rstrip("/")[:200]


def add_source(
    store: Store,
    address: str,
    kind: str | None = None,
    every: timedelta = DEFAULT_EVERY,
    since: datetime | None = None,
) -> Source:
    """Record a source to watch, due at once; the same address and kind is refused twice."""
    kind = kind or guess_kind(address)
    if kind not in KINDS:
        raise SourceError(f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    if kind == "folder":
        folder = Path(address).expanduser()
        if not folder.is_dir():
            raise SourceError(f"{address}: not a folder")
        address = str(folder.resolve())
    elif not is_url(address):
        raise SourceError(f"{address}: a {kind} source needs an http or https address")
    name = _name(kind, address)
    with store.write() as session:
        existing = session.execute(
            select(Source).where(
                Source.url == address, Source.kind == kind, Source.status != "removed"
            )
        ).scalar_one_or_none()
        if existing is not None:
            raise SourceError(f"{address} is already watched (source {existing.id})")
        source = Source(
            kind=kind,
            url=address,
            name=name,
            status="active",
            every_seconds=int(every.total_seconds()),
            since=since,
            next_run_at=datetime.now(UTC),
            failures=0,
            posts_count=0,
            media_count=0,
            alerts_count=0,
            created_by=store.actor,
        )
        session.add(source)
        session.flush()
        store.custody.append(
            session,
            "watch_added",
            f"source:{source.id}",
            {
                "kind": kind,
                "url": address,
                "every_seconds": source.every_seconds,
                "since": iso(since),
            },
        )
    return source


def list_sources(store: Store, *, include_removed: bool = False) -> list[Source]:
    with store.read() as session:
        query = select(Source).order_by(Source.id)
        if not include_removed:
            query = query.where(Source.status != "removed")
        return list(session.execute(query).scalars())


def set_status(store: Store, source_id: int, status: str) -> Source:
    """Pause, resume or remove a source (removal keeps its posts and alerts)."""
    with store.write() as session:
        source = session.get(Source, source_id)
        if source is None or source.status == "removed":
            raise SourceError(f"no source {source_id} (see 'testament watch list')")
        source.status = status
        if status == "active":
            source.next_run_at = datetime.now(UTC)
        store.custody.append(session, f"watch_{status}", f"source:{source_id}", {"url": source.url})
    return source


@dataclass(frozen=True)
class SourceView:
    """What `watch list` shows of a source."""

    source: Source

    def as_dict(self) -> dict[str, Any]:
        s = self.source
        return {
            "id": s.id,
            "kind": s.kind,
            "url": s.url,
            "name": s.name,
            "status": s.status,
            "every_seconds": s.every_seconds,
            "since": iso(s.since),
            "last_run_at": iso(s.last_run_at),
            "last_success_at": iso(s.last_success_at),
            "last_error": s.last_error,
            "last_error_at": iso(s.last_error_at),
            "failures": s.failures,
            "next_run_at": iso(s.next_run_at),
            "posts": s.posts_count,
            "media": s.media_count,
            "alerts": s.alerts_count,
            "cursor": s.cursor,
        }
