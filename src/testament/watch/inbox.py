"""The alert inbox a person triages: alerts with what was preserved of their post.

Each alert is shown with the asset it concerns (the post's media) and, where the post's
page was captured, that page's screenshot: both are shown blurred like every preview.
Marking an alert seen is triage, not evidence, so it changes the alert only; linking it
to an incident goes through the incident's own history like any other link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from testament.accounts.models import User
from testament.catalog.models import Asset, Capture
from testament.investigate import incidents as logic
from testament.investigate.models import Incident
from testament.store import Store
from testament.watch.models import Alert, Post, PostCapture, Source
from testament.watch.page_records import PageCapture


class InboxError(Exception):
    """The alert, incident or preserved asset asked for is not there."""


@dataclass(frozen=True)
class AlertRow:
    alert: Alert
    post: Post | None
    source: Source | None
    asset: Asset | None  # the media the alert is about
    page: PageCapture | None  # the newest capture of the post's page
    screenshot: Asset | None


def _capture_ids(session: Session, alert: Alert) -> set[int]:
    ids = {alert.capture_id} if alert.capture_id else set()
    if alert.post_id:
        query = select(PostCapture.capture_id).where(PostCapture.post_id == alert.post_id)
        ids |= set(session.execute(query).scalars())
    return ids


def _page(session: Session, alert: Alert) -> PageCapture | None:
    ids = _capture_ids(session, alert)
    if not ids:
        return None
    query = (
        select(PageCapture)
        .where(PageCapture.capture_id.in_(ids))
        .order_by(PageCapture.captured_at.desc(), PageCapture.id.desc())
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()


def _asset(session: Session, asset_id: int | None) -> Asset | None:
    if asset_id is None:
        return None
    query = select(Asset).where(Asset.id == asset_id).options(lazyload(Asset.captures))
    return session.execute(query).scalar_one_or_none()


def _filtered(query, kinds: list[str], unseen: bool, since: datetime | None):  # type: ignore[no-untyped-def]
    if since is not None:
        query = query.where(Alert.created_at >= since)
    if kinds:
        query = query.where(Alert.kind.in_(kinds))
    if unseen:
        query = query.where(Alert.seen_at.is_(None))
    return query


def inbox(
    session: Session,
    *,
    kinds: list[str],
    unseen: bool,
    limit: int,
    offset: int,
    since: datetime | None = None,
) -> tuple[list[AlertRow], int]:
    """Alerts newest first with what they concern, and how many match in all."""
    total = session.execute(
        _filtered(select(func.count(Alert.id)), kinds, unseen, since)
    ).scalar_one()
    query = (
        select(Alert, Post, Source)
        .outerjoin(Post, Post.id == Alert.post_id)
        .outerjoin(Source, Source.id == Alert.source_id)
        .order_by(Alert.id.desc())
        .limit(limit)
        .offset(offset)
    )
    rows = []
    for alert, post, source in session.execute(_filtered(query, kinds, unseen, since)).all():
        page = _page(session, alert)
        rows.append(
            AlertRow(
                alert,
                post,
                source,
                _asset(session, alert.asset_id),
                page,
                _asset(session, page.screenshot_asset_id) if page else None,
            )
        )
    return rows, total


def row_of(session: Session, alert_id: int) -> AlertRow:
    alert = session.get(Alert, alert_id)
    if alert is None:
        raise InboxError(f"no alert {alert_id}")
    page = _page(session, alert)
    return AlertRow(
        alert,
        session.get(Post, alert.post_id) if alert.post_id else None,
        session.get(Source, alert.source_id) if alert.source_id else None,
        _asset(session, alert.asset_id),
        page,
        _asset(session, page.screenshot_asset_id) if page else None,
    )


def mark_seen(store: Store, alert_id: int, username: str) -> None:
    """Seen by `username` now (the first person to mark it keeps the mark)."""
    with store.write() as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise InboxError(f"no alert {alert_id}")
        if alert.seen_at is None:
            alert.seen_at = datetime.now(UTC)
            alert.seen_by = username


def preserved_asset(session: Session, alert: Alert) -> Asset | None:
    """What an incident can cite for this alert: its media, else its post's page archive."""
    if alert.asset_id is not None:
        return _asset(session, alert.asset_id)
    if alert.capture_id is not None:
        capture = session.get(Capture, alert.capture_id)
        if capture is not None and capture.asset_id is not None:
            return _asset(session, capture.asset_id)
    page = _page(session, alert)
    return _asset(session, page.archive_asset_id) if page else None


def link_to_incident(store: Store, alert_id: int, incident_id: int, user_id: int) -> str:
    """Link what the alert preserved to an incident; returns the linked asset's SHA-256.

    Raises InboxError (nothing to link, no such alert or incident) or the incident's own
    IncidentError (already linked).
    """
    with store.write() as session:
        alert = session.get(Alert, alert_id)
        if alert is None:
            raise InboxError(f"no alert {alert_id}")
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise InboxError(f"no incident {incident_id}")
        asset = preserved_asset(session, alert)
        if asset is None:
            raise InboxError(f"alert {alert_id} has nothing preserved to link")
        user = session.get(User, user_id)
        assert user is not None
        logic.link_asset(session, user, incident, asset, note=f"from alert {alert_id}")
        alert.incident_id = incident.id
        return asset.sha256
