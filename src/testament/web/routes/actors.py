"""Actors, attributions, accountability events and the case view: pages and the JSON API.

Viewers read units and forces; an individual's page is for investigators and above,
and each viewing of it lands in the audit. Investigators propose, reviewers confirm.
Actor pages show no media at all: bases name their evidence by SHA-256 and position.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from testament.accounts.models import User
from testament.actors import accountability, actors, attributions, profile
from testament.actors import vocabulary as v
from testament.actors.actors import ActorError, AliasIn, PositionIn
from testament.actors.attributions import BasisIn
from testament.investigate.models import Incident
from testament.web import actor_schemas as s
from testament.web.auth import Viewer, any_user, investigator, reviewer, store_of
from testament.web.pages import render
from testament.web.params import Offset, RecordId
from testament.web.routes.api import ERRORS, ErrorOut

router = APIRouter(include_in_schema=False)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut, "description": "No such actor, incident or attribution."}
}
api_router = APIRouter(prefix="/api", tags=["actors"], responses=ERRORS | NOT_FOUND)
Limit = Annotated[int, Query(ge=1, le=1000)]
Days = Annotated[int, Query(ge=0, le=100_000, description="days without a charge")]


def _user(session, viewer: Viewer) -> User:
    user = session.get(User, viewer.id)
    assert user is not None
    return user


def _refused(exc: ActorError) -> HTTPException:
    if isinstance(exc, profile.NotAllowed):
        return HTTPException(403, str(exc))
    if str(exc).startswith(("no actor ", "no incident ", "no attribution ")) and not str(
        exc
    ).endswith("parent"):
        return HTTPException(404, str(exc))
    return HTTPException(400, str(exc))


@contextmanager
def _as_http() -> Iterator[None]:
    """A refusal as the HTTP error a client sees: 403, 404 or 400, with the one-line reason."""
    try:
        yield
    except ActorError as exc:
        raise _refused(exc) from exc


def _problem(exc: ValidationError | ActorError) -> str:
    """What a form shows for a refusal: the rule broken, or each field's problem."""
    if isinstance(exc, ActorError):
        return str(exc)
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
        for e in exc.errors()
    )


def _create_actor(session, viewer: Viewer, given: s.ActorIn) -> dict[str, Any]:
    actor = actors.create(
        session,
        viewer.username,
        kind=given.kind,
        name=given.name,
        party=given.party,
        parent_id=given.parent_id,
        rank=given.rank,
        service_start=given.service_start,
        service_end=given.service_end,
        notes=given.notes,
        aliases=[AliasIn(a.name, a.language) for a in given.aliases],
    )
    return actors.actor_dict(actor)


def _propose(session, viewer: Viewer, incident_id: int, given: s.AttributionIn) -> dict:
    made = attributions.propose(
        session,
        _user(session, viewer),
        attributions.AttributionIn(
            incident_id,
            given.actor_id,
            given.role,
            given.confidence,
            [BasisIn(**b.model_dump()) for b in given.bases],
            given.note,
        ),
    )
    return attributions.attribution_dict(made)


def _record_event(session, viewer: Viewer, given: s.EventIn) -> dict:
    made = accountability.record(
        session, _user(session, viewer), accountability.EventIn(**given.model_dump())
    )
    return accountability.event_dict(made)


def _visible(viewer: Viewer, records: list[dict]) -> list[dict]:
    """Attributions as a role may see them: an individual's name only for those who identify."""
    if viewer.may(v.IDENTIFICATIONS_ROLE):
        return records
    return [
        r | {"actor": "an individual (hidden for your role)"}
        if r["actor_kind"] == "individual"
        else r
        for r in records
    ]


# ---- JSON API ----


@api_router.get("/actors")
def api_actors(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    q: Annotated[str, Query(max_length=500, description="name or alias, any script")] = "",
    kind: Annotated[str | None, Query(max_length=16)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[s.ActorOut]:
    """Actors whose name or alias matches, transliteration-insensitive."""
    with store_of(request).read() as session:
        found = actors.search(
            session, q, kind=kind, role=viewer.role, limit=limit, offset=min(offset, 2**62)
        )
        return [s.ActorOut(**actors.actor_dict(a)) for a in found]


@api_router.post("/actors", status_code=201)
def api_add_actor(
    request: Request, given: s.ActorIn, viewer: Annotated[Viewer, Depends(investigator)]
) -> s.ActorOut:
    with _as_http(), store_of(request).write() as session:
        return s.ActorOut(**_create_actor(session, viewer, given))


@api_router.get("/actors/{actor_id}")
def api_actor(
    request: Request, actor_id: RecordId, viewer: Annotated[Viewer, Depends(any_user)]
) -> s.ActorPage:
    """An actor's incidents, bases and accountability events; individuals need investigator."""
    with _as_http(), store_of(request).write() as session:
        record = profile.view(
            session, viewer.username, viewer.role, actor_id, client=_client(request)
        )
    record["attributions"] = _visible(viewer, record["attributions"])
    return s.ActorPage(**record)


@api_router.put("/actors/{actor_id}/parent")
def api_set_parent(
    request: Request,
    actor_id: RecordId,
    given: s.ParentIn,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> s.ActorOut:
    return _changed_actor(
        request,
        actor_id,
        lambda session, a: actors.set_parent(session, viewer.username, a, given.parent_id),
    )


@api_router.post("/actors/{actor_id}/aliases", status_code=201)
def api_add_alias(
    request: Request,
    actor_id: RecordId,
    given: s.AliasModel,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> s.ActorOut:
    """Another name for an actor; search finds the actor by it at once."""
    return _changed_actor(
        request,
        actor_id,
        lambda session, a: actors.add_alias(
            session, viewer.username, a, given.name, given.language
        ),
    )


@api_router.delete("/actors/{actor_id}/aliases/{alias_id}")
def api_remove_alias(
    request: Request,
    actor_id: RecordId,
    alias_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> s.ActorOut:
    """Remove one of an actor's names; the actor's history keeps what it was."""
    return _changed_actor(
        request,
        actor_id,
        lambda session, a: actors.remove_alias(session, viewer.username, a, alias_id),
    )


@api_router.post("/actors/{actor_id}/positions", status_code=201)
def api_add_position(
    request: Request,
    actor_id: RecordId,
    given: s.PositionIn,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> s.ActorOut:
    """A unit's known position, sourced by a preserved original; geolocation bases cite it."""
    position = PositionIn(**given.model_dump())
    return _changed_actor(
        request,
        actor_id,
        lambda session, a: actors.add_position(session, viewer.username, a, position),
    )


def _changed_actor(request: Request, actor_id: int, change) -> s.ActorOut:
    """Apply `change(session, actor)` in one transaction; the actor as it then stands."""
    with _as_http(), store_of(request).write() as session:
        actor = actors.get(session, actor_id)
        change(session, actor)
        return s.ActorOut(**actors.actor_dict(actor))


@api_router.get("/incidents/{incident_id}/attributions")
def api_attributions(
    request: Request, incident_id: RecordId, viewer: Annotated[Viewer, Depends(any_user)]
) -> list[s.AttributionOut]:
    with store_of(request).read() as session:
        if session.get(Incident, incident_id) is None:
            raise HTTPException(404, f"no incident {incident_id}")
        records = [
            attributions.attribution_dict(a)
            for a in attributions.for_incident(session, incident_id)
        ]
    return [s.AttributionOut(**r) for r in _visible(viewer, records)]


@api_router.post("/incidents/{incident_id}/attributions", status_code=201)
def api_attribute(
    request: Request,
    incident_id: RecordId,
    given: s.AttributionIn,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> s.AttributionOut:
    """Propose an attribution; it stays "proposed" until another person reviews it."""
    with _as_http(), store_of(request).write() as session:
        return s.AttributionOut(**_propose(session, viewer, incident_id, given))


@api_router.post("/attributions/{attribution_id}/review")
def api_review(
    request: Request,
    attribution_id: RecordId,
    given: s.ReviewIn,
    viewer: Annotated[Viewer, Depends(reviewer)],
) -> s.AttributionOut:
    with _as_http(), store_of(request).write() as session:
        found = attributions.get_attribution(session, attribution_id)
        attributions.review(session, _user(session, viewer), found, given.decision, given.note)
        return s.AttributionOut(**attributions.attribution_dict(found))


@api_router.post("/attributions/{attribution_id}/bases", status_code=201)
def api_add_basis(
    request: Request,
    attribution_id: RecordId,
    given: s.BasisModel,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> s.AttributionOut:
    """Another basis for an attribution; a confirmed one goes back to "proposed"."""
    with _as_http(), store_of(request).write() as session:
        found = attributions.get_attribution(session, attribution_id)
        attributions.add_basis(
            session, _user(session, viewer), found, BasisIn(**given.model_dump())
        )
        return s.AttributionOut(**attributions.attribution_dict(found))


@api_router.get("/attributions/{attribution_id}/history")
def api_history(
    request: Request, attribution_id: RecordId, viewer: Annotated[Viewer, Depends(investigator)]
) -> list[s.HistoryEntry]:
    with _as_http(), store_of(request).read() as session:
        found = attributions.get_attribution(session, attribution_id)
        return [s.HistoryEntry(**h) for h in attributions.history(session, found)]


@api_router.get("/accountability")
def api_events(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    incident_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    actor_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> list[s.EventOut]:
    with store_of(request).read() as session:
        found = accountability.events(session, incident_id=incident_id, actor_id=actor_id)
        records = [accountability.event_dict(e) for e in found]
        hidden = {e.id for e in found if e.actor and not actors.may_see(viewer.role, e.actor)}
    return [s.EventOut(**(r | {"actor": None} if r["id"] in hidden else r)) for r in records]


@api_router.post("/accountability", status_code=201)
def api_add_event(
    request: Request, given: s.EventIn, viewer: Annotated[Viewer, Depends(investigator)]
) -> s.EventOut:
    """Record what an authority did; its source must already be preserved (upload it first)."""
    with _as_http(), store_of(request).write() as session:
        return s.EventOut(**_record_event(session, viewer, given))


@api_router.get("/case")
def api_case(
    request: Request, viewer: Annotated[Viewer, Depends(any_user)], days: Days = 90
) -> s.CaseOut:
    """Stalled investigations, units in more than one incident, time to a first reaction."""
    with store_of(request).read() as session:
        return s.CaseOut(**asdict(accountability.case_view(session, after_days=days)))


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


# ---- Pages ----


@router.get("/actors")
def actor_list(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    q: Annotated[str, Query(max_length=500)] = "",
    kind: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    with store_of(request).read() as session:
        found = actors.search(session, q, kind=kind or None, role=viewer.role)
    return render(request, "actors.html", actors=found, q=q, kind=kind, kinds=v.KINDS)


@router.post("/actors")
def actor_add(
    request: Request,
    viewer: Annotated[Viewer, Depends(investigator)],
    kind: Annotated[str, Form(max_length=16)],
    name: Annotated[str, Form(max_length=500)],
    party: Annotated[str, Form(max_length=500)] = "",
    parent_id: Annotated[str, Form(max_length=12)] = "",
    rank: Annotated[str, Form(max_length=500)] = "",
    aliases: Annotated[str, Form(max_length=20_000, description="one per line")] = "",
) -> Response:
    try:
        given = s.ActorIn(
            kind=kind,
            name=name,
            party=party,
            parent_id=int(parent_id) if parent_id.strip().isdigit() else None,
            rank=rank,
            aliases=[{"name": line} for line in aliases.splitlines() if line.strip()],
        )
        with store_of(request).write() as session:
            made = _create_actor(session, viewer, given)
    except (ValidationError, ActorError) as exc:
        return _list_with_error(request, viewer, _problem(exc))
    return RedirectResponse(f"/actors/{made['id']}", status_code=303)


def _list_with_error(request: Request, viewer: Viewer, error: str) -> Response:
    with store_of(request).read() as session:
        found = actors.search(session, "", role=viewer.role)
    return render(
        request, "actors.html", 400, actors=found, q="", kind="", kinds=v.KINDS, error=error
    )


@router.get("/actors/{actor_id}")
def actor_page(
    request: Request, actor_id: RecordId, viewer: Annotated[Viewer, Depends(any_user)]
) -> Response:
    with _as_http(), store_of(request).write() as session:
        record = profile.view(
            session, viewer.username, viewer.role, actor_id, client=_client(request)
        )
    record["attributions"] = _visible(viewer, record["attributions"])
    error = request.query_params.get("error", "")[:500]
    return render(request, "actor.html", 400 if error else 200, page=record, error=error)


@router.post("/actors/{actor_id}/aliases")
def alias_add(
    request: Request,
    actor_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
    name: Annotated[str, Form(max_length=500)],
    language: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    return _edit_actor(
        request,
        actor_id,
        lambda session, actor: actors.add_alias(session, viewer.username, actor, name, language),
    )


@router.post("/actors/{actor_id}/positions")
def position_add(
    request: Request,
    actor_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
    source_sha256: Annotated[str, Form(max_length=64)],
    place_name: Annotated[str, Form(max_length=500)] = "",
    latitude: Annotated[str, Form(max_length=32)] = "",
    longitude: Annotated[str, Form(max_length=32)] = "",
    start: Annotated[str, Form(max_length=10)] = "",
    end: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    try:
        given = s.PositionIn(
            source_sha256=source_sha256,
            place_name=place_name,
            latitude=latitude.strip() or None,
            longitude=longitude.strip() or None,
            start=start.strip() or None,
            end=end.strip() or None,
        )
    except ValidationError as exc:
        return _back_to_actor(actor_id, _problem(exc))
    position = PositionIn(**given.model_dump())
    return _edit_actor(
        request,
        actor_id,
        lambda session, actor: actors.add_position(session, viewer.username, actor, position),
    )


@router.post("/actors/{actor_id}/aliases/{alias_id}/remove")
def alias_remove(
    request: Request,
    actor_id: RecordId,
    alias_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> Response:
    return _edit_actor(
        request,
        actor_id,
        lambda session, actor: actors.remove_alias(session, viewer.username, actor, alias_id),
    )


def _edit_actor(request: Request, actor_id: int, change) -> Response:
    """Apply a change to an actor and go back to its page, with the refusal if there was one."""
    try:
        with store_of(request).write() as session:
            change(session, actors.get(session, actor_id))
    except ActorError as exc:
        return _back_to_actor(actor_id, _problem(exc))
    return _back_to_actor(actor_id)


def _back_to_actor(actor_id: int, error: str = "") -> RedirectResponse:
    from urllib.parse import quote

    suffix = f"?error={quote(error[:500])}" if error else ""
    return RedirectResponse(f"/actors/{actor_id}{suffix}", status_code=303)


@router.get("/incidents/{incident_id}/attributions")
def attribution_page(
    request: Request,
    incident_id: RecordId,
    viewer: Annotated[Viewer, Depends(any_user)],
    error: str = "",
) -> Response:
    with store_of(request).read() as session:
        incident = session.get(Incident, incident_id)
        if incident is None:
            raise HTTPException(404, f"No incident {incident_id}.")
        records = [
            attributions.attribution_dict(a)
            for a in attributions.for_incident(session, incident_id)
        ]
        choices = actors.search(session, "", role=viewer.role, limit=1000)
        events = [
            accountability.event_dict(e)
            for e in accountability.events(session, incident_id=incident_id)
        ]
    return render(
        request,
        "actor_attributions.html",
        400 if error else 200,
        incident=incident,
        attributions=_visible(viewer, records),
        choices=choices,
        events=events,
        vocab=v,
        error=error[:500],
        today=date.today().isoformat(),
    )


def _back(incident_id: int, error: str = "") -> RedirectResponse:
    from urllib.parse import quote

    suffix = f"?error={quote(error[:500])}" if error else ""
    return RedirectResponse(f"/incidents/{incident_id}/attributions{suffix}", status_code=303)


@router.post("/incidents/{incident_id}/attributions")
def attribution_add(
    request: Request,
    incident_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
    actor_id: Annotated[str, Form(max_length=12)],
    role: Annotated[str, Form(max_length=32)],
    confidence: Annotated[str, Form(max_length=16)],
    basis_kind: Annotated[str, Form(max_length=32)] = "",
    basis_sha256: Annotated[str, Form(max_length=64)] = "",
    basis_start: Annotated[str, Form(max_length=20)] = "",
    basis_end: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    try:
        bases = []
        if basis_kind:
            bases.append(
                {
                    "kind": basis_kind,
                    "sha256": basis_sha256.strip() or None,
                    "start": basis_start.strip() or None,
                    "end": basis_end.strip() or None,
                }
            )
        given = s.AttributionIn(
            actor_id=int(actor_id) if actor_id.strip().isdigit() else 0,
            role=role,
            confidence=confidence,
            bases=bases,
            note=note,
        )
        with store_of(request).write() as session:
            _propose(session, viewer, incident_id, given)
    except (ValidationError, ActorError) as exc:
        return _back(incident_id, _problem(exc))
    return _back(incident_id)


@router.post("/attributions/{attribution_id}/review")
def attribution_review(
    request: Request,
    attribution_id: RecordId,
    viewer: Annotated[Viewer, Depends(reviewer)],
    decision: Annotated[str, Form(max_length=16)],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    with _as_http(), store_of(request).read() as session:
        incident_id = attributions.get_attribution(session, attribution_id).incident_id
    try:
        with store_of(request).write() as session:
            found = attributions.get_attribution(session, attribution_id)
            attributions.review(session, _user(session, viewer), found, decision, note)
    except ActorError as exc:
        return _back(incident_id, _problem(exc))
    return _back(incident_id)


@router.post("/incidents/{incident_id}/accountability")
def event_add(
    request: Request,
    incident_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
    kind: Annotated[str, Form(max_length=32)],
    day: Annotated[str, Form(max_length=10)],
    authority: Annotated[str, Form(max_length=500)],
    source_sha256: Annotated[str, Form(max_length=64)],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    try:
        given = s.EventIn(
            kind=kind,
            day=day,
            authority=authority,
            source_sha256=source_sha256,
            incident_id=incident_id,
            note=note,
        )
        with store_of(request).write() as session:
            _record_event(session, viewer, given)
    except (ValidationError, ActorError) as exc:
        return _back(incident_id, _problem(exc))
    return _back(incident_id)


@router.get("/case")
def case_page(
    request: Request, viewer: Annotated[Viewer, Depends(any_user)], days: Days = 90
) -> Response:
    with store_of(request).read() as session:
        view = accountability.case_view(session, after_days=days)
    return render(request, "actor_case.html", view=view)
