"""What an incident's evidence package holds of attribution: actors, bases, accountability.

The package carries every asset a basis points at and every accountability source, so
each claim in `attribution.json` can be checked against a preserved original inside it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.actors import accountability, attributions
from testament.actors.actors import actor_dict, lineage
from testament.actors.models import AccountabilityEvent, Actor


def _events(session: Session, incident_id: int, actor_ids: set[int]) -> list[AccountabilityEvent]:
    about_actors = (
        select(AccountabilityEvent).where(
            AccountabilityEvent.actor_id.in_(actor_ids), AccountabilityEvent.incident_id.is_(None)
        )
        if actor_ids
        else None
    )
    found = accountability.events(session, incident_id=incident_id)
    if about_actors is not None:
        found += list(session.execute(about_actors).scalars().unique())
    return sorted(found, key=lambda e: (e.day, e.id))


def relied_on(session: Session, incident_id: int) -> set[int]:
    """Asset ids of the incident's bases, its actors' known positions and accountability sources."""
    held = attributions.for_incident(session, incident_id)
    ids = {b.asset_id for a in held for b in a.bases if b.asset_id is not None}
    ids |= {p.source_asset_id for a in held for p in a.actor.positions}
    ids |= {e.source_asset_id for e in _events(session, incident_id, {a.actor_id for a in held})}
    return ids


def records(session: Session, incident_id: int) -> dict[str, Any]:
    held = attributions.for_incident(session, incident_id)
    actors: dict[int, Actor] = {}
    for a in held:
        for actor in (a.actor, *lineage(a.actor)):
            actors[actor.id] = actor
    return {
        "actors": [actor_dict(actors[i]) for i in sorted(actors)],
        "attributions": [
            attributions.attribution_dict(a) | {"history": attributions.history(session, a)}
            for a in held
        ],
        "accountability": [
            accountability.event_dict(e)
            for e in _events(session, incident_id, {a.actor_id for a in held})
        ],
    }
