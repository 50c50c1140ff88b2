"""Alerts: what each new post turned out to be, errors of sources, posts gone missing.

Every committed post gets exactly one alert, written in the post's own transaction:
`known_footage` when any of its media is footage the locker already holds (through a
footage group, or the same file seen elsewhere), else `new_footage`, else (no media could
be had) `media_missing`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset, Capture, FootageLink
from testament.catalog.records import iso
from testament.footage.groups import SAME_SCENE
from testament.investigate.models import Incident, IncidentAsset
from testament.store import Store
from testament.watch.models import Alert, Post, Source

KINDS = ("new_footage", "known_footage", "media_missing", "source_error", "post_removed")


@dataclass(frozen=True)
class Verdict:
    kind: str
    message: str
    details: dict[str, Any]
    capture_id: int | None
    asset_id: int | None


def _capture_ref(capture: Capture) -> dict[str, Any]:
    return {
        "capture_id": capture.id,
        "platform": capture.platform,
        "channel": capture.channel,
        "url": capture.url,
        "posted_at": iso(capture.posted_at),
        "collected_at": iso(capture.collected_at),
    }


def group_ids(session: Session, asset_id: int) -> set[int]:
    """The assets joined to `asset_id` by footage links, walked link by link from it.

    (footage_groups reads every link in the catalog; a watcher asks this for each post.)
    """
    found, frontier = {asset_id}, {asset_id}
    while frontier:
        rows = session.execute(
            select(FootageLink.asset_a_id, FootageLink.asset_b_id).where(
                FootageLink.relation != SAME_SCENE,
                or_(FootageLink.asset_a_id.in_(frontier), FootageLink.asset_b_id.in_(frontier)),
            )
        ).all()
        frontier = {i for row in rows for i in row} - found
        found |= frontier
    return found


def _known(session: Session, asset: Asset, own: set[int]) -> dict[str, Any] | None:
    """What the locker already holds of `asset`'s footage, beyond this post's captures."""
    ids = group_ids(session, asset.id)
    members = (
        list(session.execute(select(Asset).where(Asset.id.in_(ids)).order_by(Asset.id)).scalars())
        if len(ids) > 1
        else [asset]
    )
    others = [c for m in members for c in m.captures if c.id not in own]
    if not others and len(members) == 1:
        return None
    earliest = min(
        others,
        key=lambda c: (c.posted_at is None, c.posted_at or c.collected_at, c.collected_at),
        default=None,
    )
    incidents = session.execute(
        select(Incident.id, Incident.title)
        .join(IncidentAsset, IncidentAsset.incident_id == Incident.id)
        .where(IncidentAsset.asset_id.in_(ids))
        .distinct()
        .order_by(Incident.id)
    ).all()
    return {
        "sha256": asset.sha256,
        "group": [{"sha256": m.sha256, "media_type": m.media_type} for m in members],
        "incidents": [{"id": i, "title": t} for i, t in incidents],
        "earliest_capture": None if earliest is None else _capture_ref(earliest),
        "other_captures": len(others),
    }


def classify(
    session: Session, post: Post, captures: list[Capture], later: frozenset[int] = frozenset()
) -> Verdict:
    """The alert a newly committed post gets; `later` are captures of posts committed after
    it in the same transaction, which it cannot have been a copy of."""
    own = {c.id for c in captures} | later
    missing = [
        {"capture_id": c.id, "reason": c.missing_reason} for c in captures if c.asset_id is None
    ]
    with_media = [c for c in captures if c.asset_id is not None]
    where = post.url or post.channel or f"post {post.post_key}"
    if not with_media:
        reasons = "; ".join(sorted({m["reason"] or "unknown" for m in missing}))
        first = captures[0].id if captures else None
        return Verdict(
            "media_missing",
            f"{where}: no media preserved ({reasons})",
            {"missing": missing},
            first,
            None,
        )
    for capture in with_media:
        asset = session.get(Asset, capture.asset_id)
        assert asset is not None
        known = _known(session, asset, own)
        if known is not None:
            incidents = len(known["incidents"])
            message = (
                f"{where}: known footage ({len(known['group'])} in its group, "
                f"{incidents} incident{'s' if incidents != 1 else ''})"
            )
            return Verdict(
                "known_footage", message, known | {"missing": missing}, capture.id, asset.id
            )
    first = with_media[0]
    count = len(with_media)
    return Verdict(
        "new_footage",
        f"{where}: new footage ({count} file{'s' if count != 1 else ''}), no match in the locker",
        {
            "sha256": [session.get(Asset, c.asset_id).sha256 for c in with_media],  # type: ignore[union-attr]
            "missing": missing,
        },
        first.id,
        first.asset_id,
    )


def add_alert(
    session: Session,
    kind: str,
    message: str,
    *,
    source: Source | None = None,
    post: Post | None = None,
    capture_id: int | None = None,
    asset_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> Alert:
    alert = Alert(
        kind=kind,
        message=message,
        source_id=source.id if source else (post.source_id if post else None),
        post_id=post.id if post else None,
        capture_id=capture_id,
        asset_id=asset_id,
        details=details,
    )
    session.add(alert)
    if source is not None:
        source.alerts_count = (source.alerts_count or 0) + 1
    session.flush()
    return alert


def alert_dict(
    alert: Alert, post: Post | None = None, source: Source | None = None
) -> dict[str, Any]:
    return {
        "id": alert.id,
        "kind": alert.kind,
        "created_at": iso(alert.created_at),
        "message": alert.message,
        "source": None
        if source is None
        else {"id": source.id, "kind": source.kind, "url": source.url},
        "post": None
        if post is None
        else {
            "id": post.id,
            "key": post.post_key,
            "url": post.url,
            "channel": post.channel,
            "author": post.author,
            "text": post.text,
            "posted_at": iso(post.posted_at),
            "state": post.state,
        },
        "capture_id": alert.capture_id,
        "asset_id": alert.asset_id,
        "details": alert.details,
        "seen_at": iso(alert.seen_at),
        "incident_id": alert.incident_id,
    }


def list_alerts(
    store: Store, since: datetime | None = None, kinds: list[str] | None = None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Alerts, newest first, with their post and source."""
    with store.read() as session:
        query = (
            select(Alert, Post, Source)
            .outerjoin(Post, Post.id == Alert.post_id)
            .outerjoin(Source, Source.id == Alert.source_id)
            .order_by(Alert.id.desc())
            .limit(limit)
        )
        if since is not None:
            query = query.where(Alert.created_at >= since)
        if kinds:
            query = query.where(Alert.kind.in_(kinds))
        return [alert_dict(a, p, s) for a, p, s in session.execute(query).all()]
