"""Attributing an incident to an actor, on stated bases, reviewed like incident verification.

Every change is appended to the attribution's history with the old values; "confirmed"
needs a second person: neither the proposer nor anyone who changed it may confirm.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.accounts.models import User
from testament.accounts.roles import allows
from testament.actors import vocabulary as v
from testament.actors.actors import ActorError, get
from testament.actors.models import (
    Actor,
    ActorPosition,
    Attribution,
    AttributionBasis,
    AttributionEvent,
)
from testament.catalog.models import Asset, utcnow
from testament.catalog.records import AmbiguousOrMissing, find_asset, iso
from testament.investigate import search
from testament.investigate.models import Incident


@dataclass
class BasisIn:
    """A basis as a person states it: the asset by SHA-256 (or prefix), and where in it."""

    kind: str
    sha256: str | None = None
    start: float | None = None
    end: float | None = None
    region: list[float] | None = None
    note: str = ""
    position_id: int | None = None


@dataclass
class AttributionIn:
    incident_id: int
    actor_id: int
    role: str
    confidence: str
    bases: list[BasisIn] = field(default_factory=list)
    note: str = ""


def _history(
    session: Session, attribution: Attribution, user: User, kind: str, **details: Any
) -> None:
    session.add(
        AttributionEvent(attribution_id=attribution.id, user_id=user.id, kind=kind, details=details)
    )


def _basis(session: Session, given: BasisIn) -> AttributionBasis:
    if given.kind not in v.BASIS_KINDS:
        raise ActorError(f"unknown basis {given.kind!r}; choose one of {', '.join(v.BASIS_KINDS)}")
    if not given.sha256:
        raise ActorError(f"a {given.kind} basis must point at a preserved asset")
    try:
        asset = find_asset(session, given.sha256.strip().lower())
    except AmbiguousOrMissing as exc:
        raise ActorError(f"basis {given.kind}: {exc}") from exc
    if given.kind == "official statement" and asset.media_type != "document":
        raise ActorError(
            "an official statement must be a preserved document; "
            f"{asset.sha256[:12]} is {asset.media_type}"
        )
    start, end = given.start, given.end
    if (start is not None and start < 0) or (end is not None and end < 0):
        raise ActorError("segment times are seconds from the start, not negative")
    if start is not None and end is not None and end < start:
        raise ActorError("a segment ends after it starts")
    duration = (asset.probe or {}).get("duration")
    if isinstance(duration, int | float) and any(
        t is not None and t > duration + 0.5 for t in (start, end)
    ):
        raise ActorError(f"asset {asset.sha256[:12]} is only {duration:.1f} s long")
    region = given.region
    if region is not None:
        if (
            len(region) != 4
            or not all(0 <= x <= 1 for x in region)
            or region[2] <= 0
            or region[3] <= 0
        ):
            raise ActorError("a frame region is x, y, width, height as fractions of the frame")
        if region[0] + region[2] > 1.0001 or region[1] + region[3] > 1.0001:
            raise ActorError("a frame region must lie inside the frame")
    position = None
    if given.position_id is not None:
        if given.kind != "geolocation":
            raise ActorError("only a geolocation basis points at a unit's known position")
        position = session.get(ActorPosition, given.position_id)
        if position is None:
            raise ActorError(f"basis geolocation: no position {given.position_id}")
    return AttributionBasis(
        kind=given.kind,
        asset=asset,
        position=position,
        start=start,
        end=end,
        region=[float(x) for x in region] if region is not None else None,
        note=given.note.strip()[:2000],
    )


def basis_dict(basis: AttributionBasis) -> dict[str, Any]:
    return {
        "kind": basis.kind,
        "sha256": basis.asset.sha256 if basis.asset else None,
        "start": basis.start,
        "end": basis.end,
        "region": basis.region,
        "position_id": basis.position_id,
        "note": basis.note,
    }


def snapshot(attribution: Attribution) -> dict[str, Any]:
    return {
        "role": attribution.role,
        "confidence": attribution.confidence,
        "note": attribution.note,
        "bases": [basis_dict(b) for b in attribution.bases],
    }


def _check(role: str, confidence: str) -> None:
    if role not in v.ROLES:
        raise ActorError(f"unknown role {role!r}; choose one of {', '.join(v.ROLES)}")
    if confidence not in v.CONFIDENCE:
        raise ActorError(
            f"unknown confidence {confidence!r}; choose one of {', '.join(v.CONFIDENCE)}"
        )


def propose(session: Session, user: User, given: AttributionIn) -> Attribution:
    """A new attribution, "proposed" until a reviewer other than its authors confirms it."""
    if not allows(user.role, "investigator"):
        raise ActorError("only investigators, reviewers and admins attribute incidents")
    _check(given.role, given.confidence)
    incident = session.get(Incident, given.incident_id)
    if incident is None:
        raise ActorError(f"no incident {given.incident_id}")
    actor = get(session, given.actor_id)
    bases = [_basis(session, b) for b in given.bases]
    attribution = Attribution(
        incident_id=given.incident_id,
        actor=actor,
        role=given.role,
        confidence=given.confidence,
        status="proposed",
        note=given.note.strip()[:5000],
        created_by_id=user.id,
        bases=bases,
    )
    session.add(attribution)
    session.flush()
    _history(session, attribution, user, "proposed", values=snapshot(attribution))
    search.index_incident(session, incident)
    return attribution


def get_attribution(session: Session, attribution_id: int) -> Attribution:
    found = session.get(Attribution, attribution_id)
    if found is None:
        raise ActorError(f"no attribution {attribution_id}")
    return found


def add_basis(
    session: Session, user: User, attribution: Attribution, given: BasisIn
) -> AttributionBasis:
    basis = _basis(session, given)
    attribution.bases.append(basis)
    session.flush()
    _history(session, attribution, user, "basis_added", basis=basis_dict(basis))
    _reopen(session, user, attribution, "a basis was added after confirmation")
    return basis


def edit(
    session: Session,
    user: User,
    attribution: Attribution,
    *,
    role: str | None = None,
    confidence: str | None = None,
    note: str | None = None,
) -> dict[str, list[Any]]:
    """Change role, confidence or note; returns {field: [old, new]} of what changed."""
    new_role = role or attribution.role
    new_confidence = confidence or attribution.confidence
    _check(new_role, new_confidence)
    before = snapshot(attribution)
    attribution.role, attribution.confidence = new_role, new_confidence
    if note is not None:
        attribution.note = note.strip()[:5000]
    after = snapshot(attribution)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if changes:
        _history(session, attribution, user, "edited", changes=changes)
        _reopen(session, user, attribution, "edited after confirmation")
    return changes


def _reopen(session: Session, user: User, attribution: Attribution, why: str) -> None:
    if attribution.status == "confirmed":
        _history(session, attribution, user, "status", old="confirmed", new="proposed", note=why)
        attribution.status = "proposed"


def authors(session: Session, attribution: Attribution) -> set[int]:
    rows = session.execute(
        select(AttributionEvent.user_id).where(
            AttributionEvent.attribution_id == attribution.id,
            AttributionEvent.kind.in_(("proposed", "edited", "basis_added")),
        )
    ).scalars()
    return {attribution.created_by_id, *rows}


def review(
    session: Session, user: User, attribution: Attribution, decision: str, note: str = ""
) -> None:
    if decision not in v.REVIEW_DECISIONS:
        raise ActorError(f"a review decides one of {', '.join(v.REVIEW_DECISIONS)}")
    if not allows(user.role, "reviewer"):
        raise ActorError("only reviewers and admins review attributions")
    if decision == "confirmed" and user.id in authors(session, attribution):
        raise ActorError(
            "confirmation needs a second person: you proposed or changed this attribution"
        )
    _history(
        session,
        attribution,
        user,
        "review",
        old=attribution.status,
        decision=decision,
        note=note.strip()[:5000],
    )
    attribution.status = decision
    attribution.reviewer = user
    attribution.reviewed_at = utcnow()
    session.flush()


def history(session: Session, attribution: Attribution) -> list[dict[str, Any]]:
    rows = session.execute(
        select(AttributionEvent)
        .where(AttributionEvent.attribution_id == attribution.id)
        .order_by(AttributionEvent.id)
    ).scalars()
    return [
        {"time": iso(e.time), "user": e.user.username, "kind": e.kind, "details": e.details}
        for e in rows
    ]


def for_incident(session: Session, incident_id: int) -> list[Attribution]:
    return list(
        session.execute(
            select(Attribution)
            .where(Attribution.incident_id == incident_id)
            .order_by(Attribution.id)
        )
        .scalars()
        .unique()
    )


def for_actor(session: Session, actor: Actor) -> list[Attribution]:
    return list(
        session.execute(
            select(Attribution).where(Attribution.actor_id == actor.id).order_by(Attribution.id)
        )
        .scalars()
        .unique()
    )


def attribution_dict(attribution: Attribution) -> dict[str, Any]:
    return {
        "id": attribution.id,
        "incident_id": attribution.incident_id,
        "actor_id": attribution.actor_id,
        "actor": attribution.actor.name,
        "actor_kind": attribution.actor.kind,
        "party": attribution.actor.party,
        "status": attribution.status,
        "created_by": attribution.created_by.username,
        "created_at": iso(attribution.created_at),
        "reviewer": attribution.reviewer.username if attribution.reviewer else None,
        "reviewed_at": iso(attribution.reviewed_at),
        **snapshot(attribution),
    }


def asset_of(session: Session, sha256: str) -> Asset:
    try:
        return find_asset(session, sha256.strip().lower())
    except AmbiguousOrMissing as exc:
        raise ActorError(str(exc)) from exc
