"""An actor's page as data: incidents, bases, confidence and the accountability timeline.

An individual's page is an identification: only roles that may see identifications
get it, and each viewing is written to the access audit. Bases name their evidence by
SHA-256 and position only; the page carries no media, blurred or not.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from testament.accounts import audit
from testament.actors import accountability, attributions
from testament.actors.actors import ActorError, actor_dict, get, history, lineage, may_see
from testament.actors.vocabulary import IDENTIFICATIONS_ROLE


class NotAllowed(ActorError):
    """The role may not see this actor (an individual, for a viewer)."""


def view(
    session: Session, username: str, role: str, actor_id: int, client: str | None = None
) -> dict[str, Any]:
    """The page's record; for an individual, also an audit entry naming who looked."""
    actor = get(session, actor_id)
    if not may_see(role, actor):
        raise NotAllowed(
            f"actor {actor_id} is an individual; only {IDENTIFICATIONS_ROLE}s and above see "
            "identifications"
        )
    if actor.kind == "individual":
        audit.record(session, username, "view_individual", f"actor:{actor.id}", client=client)
    return {
        "actor": actor_dict(actor),
        "lineage": [actor_dict(a) for a in lineage(actor)],
        "attributions": [
            attributions.attribution_dict(a) for a in attributions.for_actor(session, actor)
        ],
        "events": [
            accountability.event_dict(e) for e in accountability.events(session, actor_id=actor.id)
        ],
        "history": history(session, actor),
    }
