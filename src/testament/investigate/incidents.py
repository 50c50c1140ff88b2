"""Creating and changing incidents; every change lands in the incident's feed with old values.

The functions take the acting user and leave committing to the caller, so the web and
API routes share one set of rules.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.accounts.models import User
from testament.accounts.roles import allows
from testament.accounts.users import find_user
from testament.catalog.models import Asset, utcnow
from testament.catalog.records import iso
from testament.investigate import search
from testament.investigate.fields import IncidentFields
from testament.investigate.models import (
    Comment,
    FeedEvent,
    Incident,
    IncidentAsset,
    VictimGroup,
    ViolationType,
)
from testament.investigate.vocabulary import REVIEW_DECISIONS, WORKING_STATUSES


class IncidentError(ValueError):
    """A change that the rules do not allow; the message says why."""


def snapshot(incident: Incident) -> dict[str, Any]:
    """The incident's editable fields as JSON values: what the feed compares."""
    return {
        "title": incident.title,
        "summary": incident.summary,
        "violations": [t.code for t in incident.violations],
        "event_time": iso(incident.event_time),
        "event_earliest": iso(incident.event_earliest),
        "event_latest": iso(incident.event_latest),
        "location_name": incident.location_name,
        "latitude": incident.latitude,
        "longitude": incident.longitude,
        "location_precision": incident.location_precision,
        "location_method": incident.location_method,
        "victims": [
            {"count": g.count, "status": g.status, "age_group": g.age_group, "sex": g.sex}
            for g in incident.victims
        ],
        "tags": list(incident.tags),
        "assignee": incident.assignee.username if incident.assignee else None,
    }


def feed(session: Session, incident: Incident, actor: User, kind: str, **details: Any) -> None:
    session.add(FeedEvent(incident_id=incident.id, actor_id=actor.id, kind=kind, details=details))


def _apply(session: Session, incident: Incident, fields: IncidentFields) -> None:
    types = {
        t.code: t
        for t in session.execute(
            select(ViolationType).where(ViolationType.code.in_(fields.violations))
        ).scalars()
    }
    unknown = [code for code in fields.violations if code not in types]
    if unknown:
        raise IncidentError(f"unknown violation type: {', '.join(unknown)}")
    retired = [c for c in fields.violations if not types[c].active]
    already = {t.code for t in incident.violations}
    if any(code not in already for code in retired):
        raise IncidentError(f"retired violation type: {', '.join(retired)}")
    assignee = None
    if fields.assignee:
        assignee = find_user(session, fields.assignee)
        if assignee is None or not assignee.active:
            raise IncidentError(f"no active user {fields.assignee!r} to assign")
    incident.title, incident.summary = fields.title, fields.summary
    incident.violations = [types[code] for code in fields.violations]
    incident.event_time = fields.event_time
    incident.event_earliest, incident.event_latest = fields.event_earliest, fields.event_latest
    incident.location_name = fields.location_name
    incident.latitude, incident.longitude = fields.latitude, fields.longitude
    incident.location_precision = fields.location_precision
    incident.location_method = fields.location_method
    incident.victims = [VictimGroup(**g.model_dump()) for g in fields.victims]
    incident.tags = fields.tags
    incident.assignee = assignee


def create(session: Session, actor: User, fields: IncidentFields) -> Incident:
    incident = Incident(title=fields.title, created_by=actor, status="new", tags=[])
    session.add(incident)
    _apply(session, incident, fields)
    session.flush()
    feed(session, incident, actor, "created", values=snapshot(incident))
    search.index_incident(session, incident)
    return incident


def update(session: Session, actor: User, incident: Incident, fields: IncidentFields) -> dict:
    """Apply an edit; returns {field: [old, new]} for what changed (empty: nothing did).

    A verified incident whose content changes goes back to "needs review": the
    verification was of what it said before.
    """
    before = snapshot(incident)
    _apply(session, incident, fields)
    session.flush()
    after = snapshot(incident)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if not changes:
        return changes
    incident.updated_at = utcnow()
    feed(session, incident, actor, "edited", changes=changes)
    if incident.status == "verified":
        _set_status(session, actor, incident, "needs_review", "edited after verification")
    search.index_incident(session, incident)
    return changes


def _set_status(session: Session, actor: User, incident: Incident, status: str, note: str) -> None:
    feed(session, incident, actor, "status", old=incident.status, new=status, note=note)
    incident.status = status
    incident.updated_at = utcnow()


def set_working_status(
    session: Session, actor: User, incident: Incident, status: str, note: str = ""
) -> None:
    """Move between new, in progress and needs review (verdicts come from reviews)."""
    if status not in WORKING_STATUSES:
        raise IncidentError(
            f"the status {status!r} is set by a review; choose one of {', '.join(WORKING_STATUSES)}"
        )
    if status != incident.status:
        _set_status(session, actor, incident, status, note.strip())


def authors(session: Session, incident: Incident) -> set[int]:
    """Everyone who wrote the incident's content: its creator and every editor."""
    rows = session.execute(
        select(FeedEvent.actor_id).where(
            FeedEvent.incident_id == incident.id, FeedEvent.kind.in_(("created", "edited"))
        )
    ).scalars()
    return {incident.created_by_id, *rows}


def review(
    session: Session, actor: User, incident: Incident, decision: str, note: str = ""
) -> None:
    """A reviewer's verdict. "Verified" needs a second person: no author may verify."""
    if decision not in REVIEW_DECISIONS:
        raise IncidentError(f"a review decides one of {', '.join(REVIEW_DECISIONS)}")
    if not allows(actor.role, "reviewer"):
        raise IncidentError("only reviewers and admins review incidents")
    if decision == "verified":
        if incident.status != "needs_review":
            raise IncidentError("only an incident that needs review can be verified")
        if actor.id in authors(session, incident):
            raise IncidentError(
                "verification needs a second person: you created or edited this incident"
            )
    feed(session, incident, actor, "review", decision=decision, note=note.strip())
    _set_status(session, actor, incident, decision, f"review: {note.strip()}".strip(": "))


def comment(session: Session, actor: User, incident: Incident, body: str) -> Comment:
    body = body.strip()
    if not body:
        raise IncidentError("a comment cannot be empty")
    if len(body) > 20_000:
        raise IncidentError("a comment is at most 20000 characters")
    entry = Comment(incident_id=incident.id, author=actor, body=body)
    session.add(entry)
    session.flush()
    feed(session, incident, actor, "comment", comment_id=entry.id)
    search.index_comment(session, entry)
    return entry


def _duration(asset: Asset) -> float | None:
    probe = asset.probe or {}
    value = probe.get("duration")
    return float(value) if isinstance(value, int | float) else None


def link_asset(
    session: Session,
    actor: User,
    incident: Incident,
    asset: Asset,
    start: float | None = None,
    end: float | None = None,
    note: str = "",
) -> IncidentAsset:
    """Link an asset, or a segment of it (seconds from its start), as support."""
    if (start is not None and start < 0) or (end is not None and end < 0):
        raise IncidentError("segment times are seconds from the start, not negative")
    if start is not None and end is not None and end < start:
        raise IncidentError("a segment ends after it starts")
    duration = _duration(asset)
    if duration is not None and any(t is not None and t > duration + 0.5 for t in (start, end)):
        raise IncidentError(f"the asset is only {duration:.1f} s long")
    for existing in incident.assets:
        if (existing.asset_id, existing.start, existing.end) == (asset.id, start, end):
            raise IncidentError("this asset segment is already linked")
    link = IncidentAsset(asset=asset, start=start, end=end, note=note.strip()[:2000])
    incident.assets.append(link)
    session.flush()
    feed(
        session,
        incident,
        actor,
        "asset_linked",
        sha256=asset.sha256,
        start=start,
        end=end,
        note=link.note,
    )
    incident.updated_at = utcnow()
    return link


def unlink_asset(session: Session, actor: User, incident: Incident, link_id: int) -> None:
    link = next((a for a in incident.assets if a.id == link_id), None)
    if link is None:
        raise IncidentError(f"incident {incident.id} has no asset link {link_id}")
    feed(
        session,
        incident,
        actor,
        "asset_unlinked",
        sha256=link.asset.sha256,
        start=link.start,
        end=link.end,
    )
    incident.assets.remove(link)
    incident.updated_at = utcnow()


def incidents_for_asset(session: Session, asset: Asset) -> list[tuple[Incident, IncidentAsset]]:
    rows = session.execute(
        select(Incident, IncidentAsset)
        .join(IncidentAsset, IncidentAsset.incident_id == Incident.id)
        .where(IncidentAsset.asset_id == asset.id)
        .order_by(Incident.id)
    ).all()
    return [(row[0], row[1]) for row in rows]


def feed_events(session: Session, incident: Incident) -> list[FeedEvent]:
    return list(
        session.execute(
            select(FeedEvent).where(FeedEvent.incident_id == incident.id).order_by(FeedEvent.id)
        ).scalars()
    )


def feed_records(session: Session, incident: Incident) -> list[dict[str, Any]]:
    """The incident's history as plain records, each comment's text beside its entry."""
    bodies = comments(session, incident)
    return [
        {
            "time": iso(e.time),
            "actor": e.actor.username,
            "kind": e.kind,
            "details": e.details,
            **(
                {"comment": bodies[e.details["comment_id"]].body}
                if e.kind == "comment" and e.details.get("comment_id") in bodies
                else {}
            ),
        }
        for e in feed_events(session, incident)
    ]


def comments(session: Session, incident: Incident) -> dict[int, Comment]:
    return {
        c.id: c
        for c in session.execute(
            select(Comment).where(Comment.incident_id == incident.id)
        ).scalars()
    }
