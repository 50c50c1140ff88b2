"""Actors, attributions and accountability events as table rows (CSV, JSON, GeoJSON).

Attribution and event rows carry their incident's place, so that a map can show who
was alleged where, and what came of it; on a map the actors table is its units' known
positions, so that it can be laid beside the incidents.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.actors import accountability, attributions
from testament.actors.actors import actor_dict
from testament.actors.models import AccountabilityEvent, Actor, ActorPosition, Attribution
from testament.investigate.models import Incident

KINDS = ("actors", "attributions", "accountability")


def _places(session: Session) -> dict[int, tuple[float | None, float | None]]:
    return {
        i: (lat, lon)
        for i, lat, lon in session.execute(
            select(Incident.id, Incident.latitude, Incident.longitude)
        )
    }


def rows(session: Session, kind: str) -> list[dict[str, Any]]:
    if kind == "actors":
        found = session.execute(select(Actor).order_by(Actor.id)).scalars().unique()
        return [actor_dict(a) for a in found]
    places = _places(session)
    if kind == "attributions":
        found_a = session.execute(select(Attribution).order_by(Attribution.id)).scalars().unique()
        records = [attributions.attribution_dict(a) for a in found_a]
    elif kind == "accountability":
        found_e = session.execute(
            select(AccountabilityEvent).order_by(AccountabilityEvent.id)
        ).scalars()
        records = [accountability.event_dict(e) for e in found_e.unique()]
    else:
        raise ValueError(f"unknown table {kind!r}; choose one of {', '.join(KINDS)}")
    for record in records:
        lat, lon = places.get(record["incident_id"] or 0, (None, None))
        record["latitude"], record["longitude"] = lat, lon
    return records


def position_rows(session: Session) -> list[dict[str, Any]]:
    """Every unit position, named by its actor and sourced by its original's SHA-256."""
    found = session.execute(
        select(ActorPosition, Actor.name)
        .join(Actor, Actor.id == ActorPosition.actor_id)
        .order_by(ActorPosition.id)
    )
    return [
        {
            "id": position.id,
            "actor_id": position.actor_id,
            "actor": name,
            "place": position.place_name,
            "latitude": position.latitude,
            "longitude": position.longitude,
            "start": position.start.isoformat() if position.start else None,
            "end": position.end.isoformat() if position.end else None,
            "source_sha256": position.source.sha256,
            "note": position.note,
        }
        for position, name in found.unique()
    ]
