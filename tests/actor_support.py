"""Attributing a test incident to a party's force, as investigators now do."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.accounts.models import User
from testament.actors import actors, attributions
from testament.actors.attributions import AttributionIn, BasisIn
from testament.actors.models import Actor, Attribution


def attribute(
    session: Session,
    user: User,
    incident_id: int,
    party: str,
    confidence: str,
    bases: list[BasisIn] | None = None,
) -> Attribution:
    """Propose that the party's force was responsible; the force is made once per party."""
    force = session.execute(
        select(Actor).where(Actor.kind == "force", Actor.name == party)
    ).scalar_one_or_none() or actors.create(
        session, user.username, kind="force", name=party, party=party
    )
    given = AttributionIn(incident_id, force.id, "unit responsible", confidence, bases or [])
    return attributions.propose(session, user, given)
