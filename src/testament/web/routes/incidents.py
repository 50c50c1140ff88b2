"""Incidents in the browser: list, create, edit, link assets, comment, and the review workflow."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.accounts.models import User
from testament.actors import actors, attributions
from testament.actors import vocabulary as actor_vocabulary
from testament.actors.actors import ActorError
from testament.actors.attributions import AttributionIn, BasisIn
from testament.catalog.models import Asset
from testament.catalog.records import AmbiguousOrMissing, find_asset
from testament.investigate import incidents as logic
from testament.investigate import taxonomy
from testament.investigate.models import Incident, ViolationType
from testament.web.actor_schemas import AttributionIn as AttributionFields
from testament.web.auth import Viewer, any_user, investigator, reviewer, store_of
from testament.web.incident_form import parse
from testament.web.pages import render
from testament.web.params import RecordId

router = APIRouter(include_in_schema=False)


def get_incident(session: Session, incident_id: int) -> Incident:
    found = session.get(Incident, incident_id)
    if found is None:
        raise HTTPException(404, f"No incident {incident_id}.")
    return found


def _list_context(session: Session, request: Request) -> dict[str, Any]:
    """What the incident list and form need, the map tile URL (may be empty) included."""
    return {
        "tile_url": request.app.state.tile_url,
        "types": taxonomy.all_types(session),
        "users": session.execute(select(User).where(User.active.is_(True)).order_by(User.username))
        .scalars()
        .all(),
    }


def _form_context(
    session: Session, request: Request, incident: Incident | None = None
) -> dict[str, Any]:
    """The list's context, the actors the viewer may see to attribute to, and an edited
    incident's attributions as they stand (they change on their own page)."""
    viewer = request.state.viewer
    return _list_context(session, request) | {
        "actor_choices": actors.search(session, "", role=viewer.role, limit=1000),
        "actor_vocabulary": actor_vocabulary,
        "attributions": [
            attributions.attribution_dict(a)
            for a in (attributions.for_incident(session, incident.id) if incident else [])
        ],
    }


def _acting(session: Session, viewer: Viewer) -> User:
    user = session.get(User, viewer.id)
    assert user is not None
    return user


@router.get("/incidents")
def incident_list(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    status: str | None = None,
    violation: str | None = None,
    tag: str | None = None,
    assignee: str | None = None,
) -> Response:
    with store_of(request).read() as session:
        query = select(Incident).order_by(Incident.updated_at.desc())
        if status:
            query = query.where(Incident.status == status)
        if assignee:
            query = query.join(User, Incident.assignee_id == User.id).where(
                User.username == assignee
            )
        if violation:
            query = query.where(Incident.violations.any(ViolationType.code == violation))
        found = session.execute(query).unique().scalars().all()
        if tag:
            found = [i for i in found if tag.lower() in i.tags]
        context = _list_context(session, request)
    return render(
        request,
        "incidents.html",
        incidents=found,
        filters={"status": status, "violation": violation, "tag": tag, "assignee": assignee},
        **context,
    )


@router.get("/incidents/new")
def new_incident(request: Request, viewer: Annotated[Viewer, Depends(investigator)]) -> Response:
    with store_of(request).read() as session:
        context = _form_context(session, request)
    return render(request, "incident_form.html", incident=None, data={}, problems=[], **context)


def _propose(session: Session, user: User, incident: Incident, rows: list[AttributionFields]):
    for row in rows:
        bases = [BasisIn(**b.model_dump()) for b in row.bases]
        given = AttributionIn(incident.id, row.actor_id, row.role, row.confidence, bases, row.note)
        attributions.propose(session, user, given)


@router.post("/incidents")
async def create_incident(
    request: Request, viewer: Annotated[Viewer, Depends(investigator)]
) -> Response:
    fields, proposed, data, problems = parse(await request.form())
    store = store_of(request)
    if fields is not None:
        try:
            with store.write() as session:
                user = _acting(session, viewer)
                incident = logic.create(session, user, fields)
                _propose(session, user, incident, proposed)
            return RedirectResponse(f"/incidents/{incident.id}", status_code=303)
        except (logic.IncidentError, ActorError) as exc:
            problems = [str(exc)]
    with store.read() as session:
        context = _form_context(session, request)
    return render(
        request,
        "incident_form.html",
        status_code=400,
        incident=None,
        data=data,
        problems=problems,
        **context,
    )


@router.get("/incidents/{incident_id}")
def incident_page(
    request: Request, incident_id: RecordId, viewer: Annotated[Viewer, Depends(any_user)]
) -> Response:
    with store_of(request).read() as session:
        incident = get_incident(session, incident_id)
        events = logic.feed_events(session, incident)
        comments = logic.comments(session, incident)
        authors = logic.authors(session, incident)
        attributed = [
            attributions.attribution_dict(a)
            for a in attributions.for_incident(session, incident.id)
        ]
    return render(
        request,
        "incident.html",
        incident=incident,
        attributions=attributed,
        events=events,
        comments=comments,
        is_author=viewer.id in authors,
        error=request.query_params.get("error"),
    )


@router.get("/incidents/{incident_id}/edit")
def edit_incident(
    request: Request, incident_id: RecordId, viewer: Annotated[Viewer, Depends(investigator)]
) -> Response:
    with store_of(request).read() as session:
        incident = get_incident(session, incident_id)
        data = logic.snapshot(incident)
        context = _form_context(session, request, incident)
    return render(
        request, "incident_form.html", incident=incident, data=data, problems=[], **context
    )


@router.post("/incidents/{incident_id}")
async def update_incident(
    request: Request, incident_id: RecordId, viewer: Annotated[Viewer, Depends(investigator)]
) -> Response:
    fields, proposed, data, problems = parse(await request.form())
    store = store_of(request)
    if fields is not None:
        try:
            with store.write() as session:
                incident = get_incident(session, incident_id)
                user = _acting(session, viewer)
                logic.update(session, user, incident, fields)
                _propose(session, user, incident, proposed)
            return RedirectResponse(f"/incidents/{incident_id}", status_code=303)
        except (logic.IncidentError, ActorError) as exc:
            problems = [str(exc)]
    with store.read() as session:
        incident = get_incident(session, incident_id)
        context = _form_context(session, request, incident)
    return render(
        request,
        "incident_form.html",
        status_code=400,
        incident=incident,
        data=data,
        problems=problems,
        **context,
    )


def _act(request: Request, viewer: Viewer, incident_id: int, action) -> Response:
    """Run `action(session, user, incident)`; a refused action comes back as a page message."""
    try:
        with store_of(request).write() as session:
            action(session, _acting(session, viewer), get_incident(session, incident_id))
    except (logic.IncidentError, AmbiguousOrMissing) as exc:
        with store_of(request).read() as session:
            incident = get_incident(session, incident_id)
            return render(
                request,
                "incident.html",
                status_code=400,
                incident=incident,
                events=logic.feed_events(session, incident),
                comments=logic.comments(session, incident),
                is_author=viewer.id in logic.authors(session, incident),
                error=str(exc),
            )
    return RedirectResponse(f"/incidents/{incident_id}", status_code=303)


@router.post("/incidents/{incident_id}/status")
def set_status(
    request: Request,
    incident_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
    status: Annotated[str, Form(max_length=32)],
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _act(
        request,
        viewer,
        incident_id,
        lambda s, user, incident: _change_status(s, user, incident, status, note),
    )


def _change_status(session, user, incident, status: str, note: str) -> None:
    """The status the form already showed is no change, even a verdict from a review."""
    if status != incident.status:
        logic.set_working_status(session, user, incident, status, note)


@router.post("/incidents/{incident_id}/reviews")
def review(
    request: Request,
    incident_id: RecordId,
    viewer: Annotated[Viewer, Depends(reviewer)],
    decision: Annotated[str, Form(max_length=32)],
    note: Annotated[str, Form(max_length=5000)] = "",
) -> Response:
    return _act(
        request,
        viewer,
        incident_id,
        lambda s, user, incident: logic.review(s, user, incident, decision, note),
    )


@router.post("/incidents/{incident_id}/comments")
def comment(
    request: Request,
    incident_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
    body: Annotated[str, Form(max_length=20_000)],
) -> Response:
    return _act(
        request,
        viewer,
        incident_id,
        lambda s, user, incident: logic.comment(s, user, incident, body),
    )


def _seconds(value: str) -> float | None:
    """Seconds from "75", "75.5", "1:15" or "0:01:15"; blank is None."""
    value = value.strip()
    if not value:
        return None
    try:
        total = 0.0
        for part in value.split(":"):
            total = total * 60 + float(part)
    except ValueError as exc:
        raise logic.IncidentError(f"{value!r} is not a time like 75, 1:15 or 0:01:15") from exc
    return total


def link_segment(
    session: Session, user: User, incident: Incident, sha256: str, start: str, end: str, note: str
) -> None:
    asset: Asset = find_asset(session, sha256)
    logic.link_asset(session, user, incident, asset, _seconds(start), _seconds(end), note)


@router.post("/incidents/{incident_id}/assets")
def link(
    request: Request,
    incident_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
    sha256: Annotated[str, Form(max_length=64)],
    start: Annotated[str, Form(max_length=20)] = "",
    end: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _act(
        request,
        viewer,
        incident_id,
        lambda s, user, incident: link_segment(s, user, incident, sha256, start, end, note),
    )


@router.post("/incidents/{incident_id}/assets/{link_id}/unlink")
def unlink(
    request: Request,
    incident_id: RecordId,
    link_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> Response:
    return _act(
        request,
        viewer,
        incident_id,
        lambda s, user, incident: logic.unlink_asset(s, user, incident, link_id),
    )
