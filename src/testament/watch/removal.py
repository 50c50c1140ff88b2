"""Are preserved posts still online? A post that answers 404, 410 or "post not found" is a
removal: recorded with the time it was first seen missing, in the custody log and as an
alert. A network error, a timeout or a server error says nothing either way and changes
nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from selectolax.lexbor import LexborHTMLParser
from sqlalchemy import func, select

from testament.catalog.models import Asset, Capture
from testament.catalog.records import iso
from testament.store import Store
from testament.watch.alerts import add_alert
from testament.watch.models import Post, PostCapture, Removal, Source
from testament.watch.net import FetchFailed, Http
from testament.watch.notify import Notifier, deliver

GONE = (404, 410)
NOT_FOUND = re.compile(
    r"\bpost not found\b|\bthis post (?:was|has been) (?:deleted|removed)\b", re.I
)


@dataclass(frozen=True)
class Check:
    post_id: int
    url: str
    state: str  # online, removed, unreachable
    status: int | None
    reason: str


def check_url(post: Post, kind: str) -> str:
    """Where to ask: a Telegram post's embed page names a deleted post plainly."""
    return f"{post.url}?embed=1&mode=tme" if kind == "telegram" else str(post.url)


def probe(http: Http, url: str, kind: str) -> tuple[str, int | None, str]:
    """online, removed or unreachable; with the status code and a reason in words."""
    try:
        page = http.probe(url)
    except FetchFailed as exc:
        return "unreachable", None, str(exc)
    if page.status in GONE:
        return "removed", page.status, f"HTTP {page.status}"
    if not 200 <= page.status < 300:
        return "unreachable", page.status, f"HTTP {page.status} (not taken as a removal)"
    if kind == "telegram":
        error = LexborHTMLParser(page.text).css_first(".tgme_widget_message_error")
        if error is not None and NOT_FOUND.search(error.text()):
            return "removed", page.status, f"the page says {error.text().strip()!r}"
        return "online", page.status, "the post is shown"
    text = (
        LexborHTMLParser(page.text).text() if "html" in page.headers.get("Content-Type", "") else ""
    )
    if NOT_FOUND.search(text or ""):
        return "removed", page.status, "the page says the post was not found"
    return "online", page.status, f"HTTP {page.status}"


def _record_removal(store: Store, post_id: int, status: int | None, reason: str) -> int | None:
    """The removal, its custody events (one per preserved file) and its alert."""
    now = datetime.now(UTC)
    with store.write() as session:
        post = session.get(Post, post_id)
        assert post is not None
        existing = session.execute(select(Removal).where(Removal.post_id == post_id)).scalar()
        if existing is not None:
            existing.last_checked_at = now
            post.state, post.last_checked_at = "removed", now
            return None
        session.add(
            Removal(
                post_id=post_id,
                first_seen_missing_at=now,
                last_checked_at=now,
                status_code=status,
                reason=reason,
            )
        )
        post.state, post.last_checked_at = "removed", now
        rows = session.execute(
            select(Capture, Asset)
            .join(PostCapture, PostCapture.capture_id == Capture.id)
            .outerjoin(Asset, Asset.id == Capture.asset_id)
            .where(PostCapture.post_id == post_id)
            .order_by(Capture.id)
        ).all()
        details = {
            "post_url": post.url,
            "first_seen_missing_at": iso(now),
            "status_code": status,
            "reason": reason,
        }
        for capture, asset in rows:
            subject = f"asset:{asset.sha256}" if asset else f"capture:{capture.id}"
            store.custody.append(
                session, "post_removed", subject, details | {"capture_id": capture.id}
            )
        source = session.get(Source, post.source_id)
        first = rows[0] if rows else None
        alert = add_alert(
            session,
            "post_removed",
            f"{post.url}: removed ({reason}), first seen missing {iso(now)}",
            source=source,
            post=post,
            capture_id=first[0].id if first else None,
            asset_id=first[1].id if first and first[1] else None,
            details=details | {"captures": [c.id for c, _ in rows]},
        )
        return alert.id


def recheck(
    store: Store,
    http: Http,
    *,
    older_than: timedelta | None = None,
    younger_than: timedelta | None = None,
    checked_before: datetime | None = None,
    notifier: Notifier | None = None,
) -> list[Check]:
    """Ask about every preserved post with an address: found at least `older_than` ago,
    or at most `younger_than` ago, and not checked (nor found) since `checked_before`."""
    now = datetime.now(UTC)
    query = (
        select(Post.id, Post.url, Source.kind)
        .join(Source, Source.id == Post.source_id)
        .where(Post.url.is_not(None))
        .order_by(Post.id)
    )
    if older_than is not None:
        query = query.where(Post.found_at <= now - older_than)
    if younger_than is not None:
        query = query.where(Post.found_at >= now - younger_than)
    if checked_before is not None:  # a post just found counts as just checked
        query = query.where(func.coalesce(Post.last_checked_at, Post.found_at) < checked_before)
    with store.read() as session:
        posts = session.execute(query).all()
    checks, alerts = [], []
    for post_id, url, kind in posts:
        state, status, reason = probe(http, check_url(Post(url=url), kind), kind)
        checks.append(Check(post_id, url, state, status, reason))
        if state == "removed":
            alert_id = _record_removal(store, post_id, status, reason)
            if alert_id is not None:
                alerts.append(alert_id)
        elif state == "online":
            with store.write() as session:
                row = session.get(Post, post_id)
                assert row is not None
                if row.state == "removed":
                    store.custody.append(
                        session, "post_reappeared", f"watch-post:{post_id}", {"post_url": url}
                    )
                row.state, row.last_checked_at = "online", datetime.now(UTC)
    if alerts:
        deliver(store, notifier or Notifier.from_env(), alerts)
    return checks
