"""Keeping actors: creating, naming, placing under a parent unit, and finding them by name.

Functions take the acting user's name and leave committing to the caller; each checks
everything before it writes, so a refusal leaves nothing half-written. Every change is
appended to the actor's history with the old value, as attributions keep theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, case, or_, select
from sqlalchemy.orm import Session

from testament.accounts.roles import allows
from testament.actors import names
from testament.actors.models import Actor, ActorAlias, ActorEvent, ActorPosition
from testament.actors.vocabulary import GROUP_KINDS, IDENTIFICATIONS_ROLE, KINDS
from testament.catalog.models import utcnow
from testament.catalog.records import AmbiguousOrMissing, find_asset, iso


class ActorError(ValueError):
    """A change the rules do not allow; the message says why in one line."""


@dataclass
class AliasIn:
    name: str
    language: str = ""


@dataclass
class PositionIn:
    """A unit's known position as a person states it; the source by SHA-256 (or prefix)."""

    source_sha256: str
    place_name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    start: date | None = None
    end: date | None = None
    note: str = ""


def may_see(role: str, actor: Actor) -> bool:
    """Units and forces are open to every role; an individual only to those who identify."""
    return actor.kind != "individual" or allows(role, IDENTIFICATIONS_ROLE)


def get(session: Session, actor_id: int) -> Actor:
    actor = session.get(Actor, actor_id)
    if actor is None:
        raise ActorError(f"no actor {actor_id}")
    return actor


def not_future(day: date | None, what: str) -> None:
    if day is not None and day > utcnow().date():
        raise ActorError(f"{what} {day.isoformat()} is in the future")


def _history(session: Session, actor: Actor, username: str, kind: str, **details: Any) -> None:
    session.add(ActorEvent(actor_id=actor.id, username=username, kind=kind, details=details))


def history(session: Session, actor: Actor) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ActorEvent).where(ActorEvent.actor_id == actor.id).order_by(ActorEvent.id)
    ).scalars()
    return [
        {"time": iso(e.time), "user": e.username, "kind": e.kind, "details": e.details}
        for e in rows
    ]


def _reindex(actor: Actor) -> None:
    actor.search_key = names.search_key([actor.name, *(a.name for a in actor.aliases)])


def _check_parent(session: Session, actor: Actor | None, parent_id: int | None) -> Actor | None:
    if parent_id is None:
        return None
    parent = session.get(Actor, parent_id)
    if parent is None:
        raise ActorError(f"no actor {parent_id} to be the parent")
    if parent.kind not in GROUP_KINDS:
        raise ActorError(f"actor {parent_id} is an individual and cannot be a parent")
    seen = set()
    step: Actor | None = parent
    while step is not None and step.id not in seen:
        if actor is not None and step.id == actor.id:
            raise ActorError(f"actor {parent_id} is under actor {actor.id}: parents would cycle")
        seen.add(step.id)
        step = step.parent
    return parent


def _check_fields(
    kind: str, name: str, service_start: date | None, service_end: date | None
) -> None:
    if kind not in KINDS:
        raise ActorError(f"unknown actor kind {kind!r}; choose one of {', '.join(KINDS)}")
    if not name.strip():
        raise ActorError("an actor needs a name (an unnamed individual: describe them)")
    not_future(service_start, "service start")
    not_future(service_end, "service end")
    if service_start and service_end and service_end < service_start:
        raise ActorError("service ends before it starts")


def create(
    session: Session,
    username: str,
    *,
    kind: str,
    name: str,
    party: str = "",
    parent_id: int | None = None,
    rank: str = "",
    service_start: date | None = None,
    service_end: date | None = None,
    notes: str = "",
    aliases: list[AliasIn] | None = None,
) -> Actor:
    _check_fields(kind, name, service_start, service_end)
    parent = _check_parent(session, None, parent_id)
    actor = Actor(
        kind=kind,
        name=name.strip(),
        party=party.strip(),
        parent=parent,
        rank=rank.strip(),
        service_start=service_start,
        service_end=service_end,
        notes=notes.strip(),
        created_by=username,
        aliases=[
            ActorAlias(name=a.name.strip(), language=a.language.strip())
            for a in aliases or []
            if a.name.strip()
        ],
    )
    _reindex(actor)
    session.add(actor)
    session.flush()
    _history(session, actor, username, "created", values=actor_dict(actor))
    return actor


def set_parent(session: Session, username: str, actor: Actor, parent_id: int | None) -> None:
    old = actor.parent_id
    actor.parent = _check_parent(session, actor, parent_id)
    session.flush()
    if actor.parent_id != old:
        _history(session, actor, username, "parent", old=old, new=actor.parent_id)


def add_alias(
    session: Session, username: str, actor: Actor, name: str, language: str = ""
) -> ActorAlias:
    """Another name, found by search at once; the same name and language twice is refused."""
    name, language = name.strip(), language.strip()
    if not name:
        raise ActorError("an alias cannot be empty")
    if len(language) > 16:
        raise ActorError(f"language tag {language[:20]!r} is longer than 16 characters")
    if name == actor.name or any((a.name, a.language) == (name, language) for a in actor.aliases):
        raise ActorError(f"actor {actor.id} is already known as {name!r}")
    alias = ActorAlias(name=name, language=language)
    actor.aliases.append(alias)
    _reindex(actor)
    session.flush()
    _history(session, actor, username, "alias_added", alias=_alias_dict(alias))
    return alias


def add_position(session: Session, username: str, actor: Actor, given: PositionIn) -> ActorPosition:
    """A known position of a force, formation or unit, sourced by a preserved original."""
    if actor.kind not in GROUP_KINDS:
        raise ActorError(f"actor {actor.id} is an individual; positions are of units")
    place = given.place_name.strip()
    lat, lon = given.latitude, given.longitude
    if (lat is None) != (lon is None):
        raise ActorError("give both latitude and longitude, or neither")
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ActorError(f"{lat}, {lon} is not a latitude and longitude")
    if not place and lat is None:
        raise ActorError("a position needs a place name or coordinates")
    not_future(given.start, "position start")
    not_future(given.end, "position end")
    if given.start and given.end and given.end < given.start:
        raise ActorError("the position ends before it starts")
    try:
        source = find_asset(session, given.source_sha256.strip().lower())
    except AmbiguousOrMissing as exc:
        raise ActorError(f"position source: {exc}") from exc
    position = ActorPosition(
        place_name=place,
        latitude=lat,
        longitude=lon,
        start=given.start,
        end=given.end,
        source=source,
        note=given.note.strip()[:2000],
        created_by=username,
    )
    actor.positions.append(position)
    session.flush()
    _history(session, actor, username, "position_added", position=position_dict(position))
    return position


def position_dict(position: ActorPosition) -> dict[str, Any]:
    return {
        "id": position.id,
        "place_name": position.place_name,
        "latitude": position.latitude,
        "longitude": position.longitude,
        "start": position.start.isoformat() if position.start else None,
        "end": position.end.isoformat() if position.end else None,
        "source_sha256": position.source.sha256,
        "note": position.note,
    }


def remove_alias(session: Session, username: str, actor: Actor, alias_id: int) -> None:
    """Drop a name (mistyped, or another actor's); the history keeps what it was."""
    alias = next((a for a in actor.aliases if a.id == alias_id), None)
    if alias is None:
        raise ActorError(f"actor {actor.id} has no alias {alias_id}")
    _history(session, actor, username, "alias_removed", alias=_alias_dict(alias))
    actor.aliases.remove(alias)
    _reindex(actor)
    session.flush()


def search(
    session: Session,
    query: str = "",
    *,
    kind: str | None = None,
    role: str = "admin",
    limit: int = 100,
    offset: int = 0,
) -> list[Actor]:
    """Actors whose name or an alias matches every word, in any script or transliteration.

    Each word matches the start of a word, romanised or as a skeleton; romanised matches
    come first. Individuals are left out for roles that may not see identifications.
    """
    plain_words, skeleton_words = names.query_words(query)
    statement = select(Actor)
    for plain_word, skeleton_word in zip(plain_words, skeleton_words, strict=True):
        statement = statement.where(
            or_(
                Actor.search_key.contains(f" {plain_word}", autoescape=True),
                Actor.search_key.contains(f" {skeleton_word}", autoescape=True),
            )
        )
    if kind is not None:
        statement = statement.where(Actor.kind == kind)
    if not allows(role, IDENTIFICATIONS_ROLE):
        statement = statement.where(Actor.kind != "individual")
    if plain_words:
        exact = and_(*(Actor.search_key.contains(f" {w}", autoescape=True) for w in plain_words))
        statement = statement.order_by(case((exact, 0), else_=1))
    statement = statement.order_by(Actor.name, Actor.id)
    return list(session.execute(statement.limit(limit).offset(offset)).scalars().unique())


def lineage(actor: Actor) -> list[Actor]:
    """The actor's parents, nearest first."""
    found, step, seen = [], actor.parent, {actor.id}
    while step is not None and step.id not in seen:
        found.append(step)
        seen.add(step.id)
        step = step.parent
    return found


def actor_dict(actor: Actor) -> dict:
    return {
        "id": actor.id,
        "kind": actor.kind,
        "name": actor.name,
        "party": actor.party,
        "parent_id": actor.parent_id,
        "rank": actor.rank,
        "service_start": actor.service_start.isoformat() if actor.service_start else None,
        "service_end": actor.service_end.isoformat() if actor.service_end else None,
        "notes": actor.notes,
        "aliases": [_alias_dict(a) for a in actor.aliases],
        "positions": [position_dict(p) for p in actor.positions],
    }


def _alias_dict(alias: ActorAlias) -> dict[str, Any]:
    return {"id": alias.id, "name": alias.name, "language": alias.language}
