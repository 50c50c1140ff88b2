"""Watch records: sources followed, the posts found on them, alerts, and removals.

A source's cursor is advanced in the same transaction that commits a post, so a watcher
stopped at any moment resumes where its last committed post left it. A post is unique
per source (`post_key`), and a source is polled by whoever holds its lease, so two
watchers on one store never collect a post twice.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from testament.catalog.models import Base, utcnow


class Source(Base):
    """A watched channel, feed, listable page or folder, with its cursor and schedule."""

    __tablename__ = "watch_sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # telegram, feed, ytdlp, folder
    url: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, paused, removed
    every_seconds: Mapped[int] = mapped_column(Integer, default=900)
    since: Mapped[datetime | None]
    # Where the last committed post left the source (kind-specific: a message id, ...).
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    next_run_at: Mapped[datetime | None] = mapped_column(index=True)
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)  # consecutive, for back-off
    posts_count: Mapped[int] = mapped_column(Integer, default=0)
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    alerts_count: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))


class Post(Base):
    """One post found on a source; its media are captures (see PostCapture)."""

    __tablename__ = "watch_posts"
    __table_args__ = (
        UniqueConstraint("source_id", "post_key"),
        Index("ix_watch_posts_found_at", "found_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("watch_sources.id"), index=True)
    post_key: Mapped[str] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None]
    found_at: Mapped[datetime] = mapped_column(default=utcnow)
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    missing_count: Mapped[int] = mapped_column(Integer, default=0)
    # Disappearance checks: online, removed (see Removal), or unknown (no check yet).
    state: Mapped[str] = mapped_column(String(16), default="online")
    last_checked_at: Mapped[datetime | None]
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Its page capture, when the watcher captures pages: due from this time until a
    # page_captures row exists (a failed or interrupted capture is tried again, backing off).
    page_due_at: Mapped[datetime | None] = mapped_column(index=True)
    page_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    page_error: Mapped[str | None] = mapped_column(Text)


class PostCapture(Base):
    """A capture made from a post (one per photo or video; one without media if none)."""

    __tablename__ = "watch_post_captures"

    post_id: Mapped[int] = mapped_column(
        ForeignKey("watch_posts.id", ondelete="CASCADE"), primary_key=True
    )
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), primary_key=True)


class Alert(Base):
    """What the watchers found: new or known footage, missing media, errors, removals."""

    __tablename__ = "watch_alerts"
    __table_args__ = (Index("ix_watch_alerts_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # new_footage, known_footage, media_missing, source_error, post_removed
    kind: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("watch_sources.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("watch_posts.id"), index=True)
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    message: Mapped[str] = mapped_column(Text)
    # Footage group members, incidents supported, the earliest known capture, ...
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    seen_at: Mapped[datetime | None]
    seen_by: Mapped[str | None] = mapped_column(String(200))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    notified_at: Mapped[datetime | None]
    notify_error: Mapped[str | None] = mapped_column(Text)


class Removal(Base):
    """A preserved post seen missing: when first, how (status code, page text)."""

    __tablename__ = "watch_removals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("watch_posts.id"), unique=True)
    first_seen_missing_at: Mapped[datetime]
    last_checked_at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
