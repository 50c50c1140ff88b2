"""The catalog record of one capture of a post's page, and the assets it preserved.

A screenshot, a web archive, a certificate chain and the response headers are captured
WITH a capture (the sighting of a post), not made FROM an asset, so they are not
derivatives: each is an asset of its own, and this row ties the four to the capture.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ColumnElement, ForeignKey, Integer, Select, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from testament.catalog.models import Base, utcnow
from testament.locker.custody import canonical_json
from testament.watch.models import Post, PostCapture

# What each preserved part of a page capture is, by the column that names its asset.
PARTS = {
    "screenshot": "screenshot_asset_id",
    "archive": "archive_asset_id",
    "certificates": "certificates_asset_id",
    "headers": "headers_asset_id",
}


class PageCapture(Base):
    """One visit of a post's page by headless Chromium, with what it preserved."""

    __tablename__ = "page_captures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    status_code: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    screenshot_asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    archive_asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    # A page served over plain HTTP has no certificate chain.
    certificates_asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"))
    headers_asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    tool: Mapped[str] = mapped_column(String(128))
    # Page size, resources recorded, the TLS connection as Chromium saw it.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    captured_at: Mapped[datetime] = mapped_column(default=utcnow)
    captured_by: Mapped[str] = mapped_column(String(200))


class PageClaim(Base):
    """A page being captured now, and by whom: the capture id is the key, so that of two
    workers handed the same page at once one inserts the claim and the other finds it."""

    __tablename__ = "page_claims"

    capture_id: Mapped[int] = mapped_column(ForeignKey("captures.id"), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))  # hostname:pid:random, as a lease's
    claimed_until: Mapped[datetime]


def page_captured_details(row: PageCapture, parts: dict[str, str | None]) -> dict[str, Any]:
    """What the `page_captured` event attests: the row, and each part by its SHA-256."""
    return {
        "page_capture_id": row.id,
        "capture_id": row.capture_id,
        "url": row.url,
        "final_url": row.final_url,
        "status_code": row.status_code,
        "title": row.title,
        "tool": row.tool,
        "details_sha256": hashlib.sha256(canonical_json(row.details).encode()).hexdigest(),
        "captured_at": row.captured_at.isoformat(),
    } | {f"{kind}_sha256": sha256 for kind, sha256 in parts.items()}


def page_waiting() -> ColumnElement[bool]:
    """A watched post whose page is due and not yet captured (of any of its captures).

    The page_captures row is the truth: a post whose page was captured is never captured
    again, even if the watcher was killed before it could clear `page_due_at`.
    """
    link = aliased(PostCapture)
    captured = (
        select(PageCapture.id)
        .join(link, link.capture_id == PageCapture.capture_id)
        .where(link.post_id == Post.id)
        .correlate(Post)
        .exists()
    )
    return Post.page_due_at.is_not(None) & ~captured


def page_status(session: Session, source_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per source: its pages waiting for capture, and the error of the last page that
    failed (still waiting, or failed for good), as `watch list`, the API and the page show."""
    waiting = dict(session.execute(pages_waiting(source_ids)).all())
    last = (
        select(func.max(Post.id).label("post_id"))
        .where(Post.source_id.in_(source_ids), Post.page_error.is_not(None))
        .group_by(Post.source_id)
        .subquery()
    )
    query = select(Post.source_id, Post.page_error).join(last, last.c.post_id == Post.id)
    errors = dict(session.execute(query).all())
    return {
        i: {"pages_waiting": waiting.get(i, 0), "last_page_error": errors.get(i)}
        for i in source_ids
    }


def pages_waiting(source_ids: list[int] | None = None) -> Select[tuple[int, int]]:
    """Source id and how many of its posts' pages wait for capture."""
    query = select(Post.source_id, func.count(Post.id)).where(page_waiting())
    if source_ids is not None:
        query = query.where(Post.source_id.in_(source_ids))
    return query.group_by(Post.source_id)
