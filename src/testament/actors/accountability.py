"""What the authorities did: accountability events, and the case view's figures over them.

An event concerns an incident, an actor, or both, and names its source: an original
preserved in the locker (a press release page, a PDF, a court document), so that the
claim can be checked later against what was said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from statistics import median
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.accounts.models import User
from testament.accounts.roles import allows
from testament.actors import vocabulary as v
from testament.actors.actors import ActorError, get, not_future
from testament.actors.attributions import asset_of
from testament.actors.models import AccountabilityEvent, Actor, Attribution
from testament.catalog.models import Capture, utcnow
from testament.catalog.records import iso
from testament.investigate.models import Incident, IncidentAsset


@dataclass
class EventIn:
    kind: str
    day: date
    authority: str
    source_sha256: str
    incident_id: int | None = None
    actor_id: int | None = None
    note: str = ""


def record(session: Session, user: User, given: EventIn) -> AccountabilityEvent:
    if not allows(user.role, "investigator"):
        raise ActorError("only investigators, reviewers and admins record accountability events")
    if given.kind not in v.EVENT_KINDS:
        raise ActorError(f"unknown event {given.kind!r}; choose one of {', '.join(v.EVENT_KINDS)}")
    not_future(given.day, "the date")
    if not given.authority.strip():
        raise ActorError("name the authority (a prosecutor's office, a court, a ministry)")
    if given.incident_id is None and given.actor_id is None:
        raise ActorError("an accountability event concerns an incident, an actor, or both")
    if given.incident_id is not None and session.get(Incident, given.incident_id) is None:
        raise ActorError(f"no incident {given.incident_id}")
    if given.actor_id is not None:
        get(session, given.actor_id)
    source = asset_of(session, given.source_sha256)
    event = AccountabilityEvent(
        kind=given.kind,
        day=given.day,
        authority=given.authority.strip()[:2000],
        incident_id=given.incident_id,
        actor_id=given.actor_id,
        source=source,
        note=given.note.strip()[:5000],
        created_by_id=user.id,
    )
    session.add(event)
    session.flush()
    return event


def event_dict(event: AccountabilityEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind,
        "day": event.day.isoformat(),
        "authority": event.authority,
        "incident_id": event.incident_id,
        "actor_id": event.actor_id,
        "actor": event.actor.name if event.actor else None,
        "source_sha256": event.source.sha256,
        "note": event.note,
        "created_by": event.created_by.username,
        "created_at": iso(event.created_at),
    }


def events(
    session: Session, *, incident_id: int | None = None, actor_id: int | None = None
) -> list[AccountabilityEvent]:
    statement = select(AccountabilityEvent).order_by(
        AccountabilityEvent.day, AccountabilityEvent.id
    )
    if incident_id is not None:
        statement = statement.where(AccountabilityEvent.incident_id == incident_id)
    if actor_id is not None:
        statement = statement.where(AccountabilityEvent.actor_id == actor_id)
    return list(session.execute(statement).scalars().unique())


def _related(session: Session) -> dict[int, list[AccountabilityEvent]]:
    """Each incident's events: its own, and those about actors it is attributed to."""
    actors_of: dict[int, set[int]] = {}
    for incident_id, actor_id in session.execute(
        select(Attribution.incident_id, Attribution.actor_id).where(
            Attribution.status != "rejected"
        )
    ):
        actors_of.setdefault(incident_id, set()).add(actor_id)
    everything = events(session)
    found: dict[int, list[AccountabilityEvent]] = {}
    for incident_id in session.execute(select(Incident.id)).scalars():
        mine = actors_of.get(incident_id, set())
        found[incident_id] = [
            e
            for e in everything
            if e.incident_id == incident_id or (e.actor_id in mine and e.incident_id is None)
        ]
    return found


@dataclass
class Stalled:
    incident_id: int
    title: str
    announced: date
    days: int


@dataclass
class SharedUnit:
    actor_id: int
    name: str
    party: str
    incidents: list[int]


@dataclass
class Reaction:
    incident_id: int
    title: str
    first_posted: str
    first_reaction: date
    reaction: str
    days: int


@dataclass
class CaseView:
    as_of: date
    after_days: int
    stalled: list[Stalled]
    shared_units: list[SharedUnit]
    reactions: list[Reaction]
    median_reaction_days: float | None
    incidents: int
    without_reaction: int


def case_view(session: Session, after_days: int = 90, as_of: date | None = None) -> CaseView:
    """Stalled investigations, units seen in several incidents, and time to a first reaction."""
    as_of = as_of or utcnow().date()
    titles = dict(session.execute(select(Incident.id, Incident.title)).all())
    related = _related(session)
    stalled = []
    for incident_id, found in related.items():
        announced = [e.day for e in found if e.kind == "investigation announced" and e.day <= as_of]
        if not announced:
            continue
        first = min(announced)
        charged = any(e.kind == "charged" and e.day <= as_of for e in found)
        if not charged and (as_of - first) >= timedelta(days=after_days):
            stalled.append(Stalled(incident_id, titles[incident_id], first, (as_of - first).days))
    shared: dict[int, set[int]] = {}
    for actor_id, incident_id in session.execute(
        select(Attribution.actor_id, Attribution.incident_id)
        .join(Actor, Actor.id == Attribution.actor_id)
        .where(Actor.kind.in_(("unit", "formation")), Attribution.status != "rejected")
    ):
        shared.setdefault(actor_id, set()).add(incident_id)
    units = []
    for actor_id, incidents in shared.items():
        if len(incidents) > 1:
            actor = session.get(Actor, actor_id)
            assert actor is not None
            units.append(SharedUnit(actor_id, actor.name, actor.party, sorted(incidents)))
    units.sort(key=lambda u: (-len(u.incidents), u.name))
    posted = _first_posted(session)
    reactions = []
    for incident_id, found in related.items():
        official = [e for e in found if e.kind in v.OFFICIAL_REACTIONS]
        if not official or incident_id not in posted:
            continue
        first = min(official, key=lambda e: (e.day, e.id))
        days = (first.day - posted[incident_id].date()).days
        reactions.append(
            Reaction(
                incident_id,
                titles[incident_id],
                iso(posted[incident_id]) or "",
                first.day,
                first.kind,
                days,
            )
        )
    reactions.sort(key=lambda r: r.incident_id)
    return CaseView(
        as_of=as_of,
        after_days=after_days,
        stalled=sorted(stalled, key=lambda s: -s.days),
        shared_units=units,
        reactions=reactions,
        median_reaction_days=median(r.days for r in reactions) if reactions else None,
        incidents=len(titles),
        without_reaction=sum(
            1
            for found in related.values()
            if not any(e.kind in v.OFFICIAL_REACTIONS for e in found)
        ),
    )


def _first_posted(session: Session) -> dict[int, Any]:
    """Each incident's earliest posting among the captures of its linked assets."""
    rows = session.execute(
        select(IncidentAsset.incident_id, Capture.posted_at)
        .join(Capture, Capture.asset_id == IncidentAsset.asset_id)
        .where(Capture.posted_at.is_not(None))
    ).all()
    first: dict[int, Any] = {}
    for incident_id, posted_at in rows:
        if incident_id not in first or posted_at < first[incident_id]:
            first[incident_id] = posted_at
    return first
