"""The JSON API under /api: assets, captures, incidents, matching and search.

Authenticate with `Authorization: Bearer <token>` (tokens come from the account page or
`testament user token`); a logged-in browser session works too, with its CSRF token.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from testament.catalog.library import library_query
from testament.catalog.models import Asset, Capture, FootageLink
from testament.catalog.records import AmbiguousOrMissing, asset_dict, capture_dict, iso
from testament.fingerprint import FingerprintError
from testament.investigate import incidents as logic
from testament.investigate.fields import IncidentFields
from testament.investigate.models import Incident
from testament.jobs import state as job_state
from testament.jobs.state import JobView
from testament.web.api_schemas import (
    AssetDetail,
    AssetOut,
    CaptureOut,
    IncidentDetail,
    IncidentOut,
    MatchResult,
    Me,
    SearchHit,
)
from testament.web.auth import Viewer, any_user, investigator, reviewer, store_of
from testament.web.params import Offset, RecordId
from testament.web.routes import assets as asset_routes
from testament.web.routes.incidents import _acting, get_incident, link_segment
from testament.web.routes.matching import match_upload
from testament.web.routes.search import run_search


class Problem(BaseModel):
    loc: list[str] = Field(description="where: body, query or path, then the field")
    msg: str
    type: str


class ErrorOut(BaseModel):
    detail: str | list[Problem] = Field(description="one line, or the request's problems")


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorOut, "description": description}


ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The request was refused; `detail` says why."),
    401: _error("No valid token or session."),
    403: _error("The role does not allow this."),
    422: _error("The request does not fit the schema, or a file could not be read."),
}
INCIDENT: dict[int | str, dict[str, Any]] = {404: _error("No such incident.")}
ASSET: dict[int | str, dict[str, Any]] = {
    404: _error("No asset has this SHA-256 or prefix."),
    409: _error("More than one asset starts with this prefix; give more digits."),
}
router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)
# Routes that take whole files, included with the upload size limit.
file_router = APIRouter(prefix="/api", tags=["api"], responses=ERRORS)
Limit = Annotated[int, Query(ge=1, le=1000)]


class StatusChange(BaseModel):
    status: str = Field(description="new, in_progress or needs_review")
    note: str = Field("", max_length=2000)


class ReviewIn(BaseModel):
    decision: str = Field(description="verified, disputed or rejected")
    note: str = Field("", max_length=5000)


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=20_000)


class LinkIn(BaseModel):
    sha256: str = Field(min_length=4, max_length=64)
    start: float | None = Field(None, description="seconds from the asset's start")
    end: float | None = None
    note: str = Field("", max_length=2000)


def incident_dict(incident: Incident, *, full: bool = False, session=None) -> dict[str, Any]:
    record = {
        "id": incident.id,
        "status": incident.status,
        "created_by": incident.created_by.username,
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
        **logic.snapshot(incident),
        "assets": [
            {
                "link_id": a.id,
                "sha256": a.asset.sha256,
                "start": a.start,
                "end": a.end,
                "note": a.note,
            }
            for a in incident.assets
        ],
    }
    if full and session is not None:
        record["feed"] = logic.feed_records(session, incident)
    return record


def _refused(exc: Exception) -> HTTPException:
    return HTTPException(400, str(exc))


@router.get("/me")
def me(viewer: Annotated[Viewer, Depends(any_user)]) -> Me:
    return Me(username=viewer.username, role=viewer.role)


@router.get("/assets")
def list_assets(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    media_type: str | None = None,
    language: Annotated[
        str | None,
        Query(
            max_length=8,
            description="ISO 639-1 code identified in on-screen text, transcript or post text",
        ),
    ] = None,
    has_text: Annotated[bool, Query(description="only assets with on-screen text")] = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[AssetOut]:
    with store_of(request).read() as session:
        query = library_query(
            session, media_type=media_type or None, language=language or None, has_text=has_text
        )
        query = query.order_by(None).order_by(Asset.id).limit(limit).offset(offset)
        return [asset_dict(a) for a in session.execute(query).scalars()]


@router.get("/assets/{sha256}", responses=ASSET)
def get_asset(
    request: Request, sha256: str, viewer: Annotated[Viewer, Depends(any_user)]
) -> AssetDetail:
    """One asset by its SHA-256 or a unique prefix of at least 4 hex digits."""
    store = store_of(request)
    asset_id = asset_routes.load_asset(store, sha256).id
    with store.read() as session:
        asset = session.get(Asset, asset_id)
        links = (
            session.execute(
                select(FootageLink).where(
                    (FootageLink.asset_a_id == asset.id) | (FootageLink.asset_b_id == asset.id)
                )
            )
            .scalars()
            .all()
        )
        ids = {i for link in links for i in (link.asset_a_id, link.asset_b_id)}
        shas = dict(session.execute(select(Asset.id, Asset.sha256).where(Asset.id.in_(ids))).all())
        supports = logic.incidents_for_asset(session, asset)
        record = asset_dict(asset, with_captures=True)
        jobs = [JobView.of(r).as_dict() for r in job_state.for_asset(session, asset.id)]
    return record | {
        "jobs": jobs,
        "footage_links": [
            {
                "a": shas[link.asset_a_id],
                "relation": link.relation,
                "b": shas[link.asset_b_id],
                "offset": link.offset,
                "asset_time": link.asset_time,
                "score": link.score,
            }
            for link in links
        ],
        "incidents": [
            {"id": i.id, "title": i.title, "status": i.status, "start": seg.start, "end": seg.end}
            for i, seg in supports
        ],
    }


@router.get("/assets/{sha256}/original", response_class=Response, responses=ASSET)
def get_original(
    request: Request,
    sha256: str,
    viewer: Annotated[Viewer, Depends(any_user)],
    download: bool = True,
) -> Response:
    """The preserved bytes; every download is recorded in the audit log."""
    return asset_routes.original(request, sha256, viewer, download)


@router.get("/captures")
def list_captures(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    platform: str | None = None,
    channel: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[CaptureOut]:
    with store_of(request).read() as session:
        query = select(Capture).order_by(Capture.id).limit(limit).offset(offset)
        if platform:
            query = query.where(Capture.platform == platform)
        if channel:
            query = query.where(Capture.channel == channel)
        return [capture_dict(c) for c in session.execute(query).scalars()]


@router.get("/incidents")
def list_incidents(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    status: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[IncidentOut]:
    with store_of(request).read() as session:
        query = select(Incident).order_by(Incident.id).limit(limit).offset(offset)
        if status:
            query = query.where(Incident.status == status)
        return [incident_dict(i) for i in session.execute(query).unique().scalars()]


@router.get("/incidents/{incident_id}", responses=INCIDENT)
def get_incident_api(
    request: Request, incident_id: RecordId, viewer: Annotated[Viewer, Depends(any_user)]
) -> IncidentDetail:
    with store_of(request).read() as session:
        return incident_dict(get_incident(session, incident_id), full=True, session=session)


def _change(request: Request, viewer: Viewer, incident_id: int | None, action) -> dict[str, Any]:
    store = store_of(request)
    try:
        with store.write() as session:
            incident = get_incident(session, incident_id) if incident_id is not None else None
            result = action(session, _acting(session, viewer), incident)
            incident_id = result.id if isinstance(result, Incident) else incident.id
    except (logic.IncidentError, AmbiguousOrMissing) as exc:
        raise _refused(exc) from exc
    with store.read() as session:
        return incident_dict(get_incident(session, incident_id), full=True, session=session)


@router.post("/incidents", status_code=201)
def create_incident(
    request: Request, fields: IncidentFields, viewer: Annotated[Viewer, Depends(investigator)]
) -> IncidentDetail:
    return _change(request, viewer, None, lambda s, user, _: logic.create(s, user, fields))


@router.put("/incidents/{incident_id}", responses=INCIDENT)
def update_incident(
    request: Request,
    incident_id: RecordId,
    fields: IncidentFields,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> IncidentDetail:
    return _change(
        request, viewer, incident_id, lambda s, user, i: logic.update(s, user, i, fields)
    )


@router.post("/incidents/{incident_id}/status", responses=INCIDENT)
def set_status(
    request: Request,
    incident_id: RecordId,
    change: StatusChange,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> IncidentDetail:
    return _change(
        request,
        viewer,
        incident_id,
        lambda s, user, i: logic.set_working_status(s, user, i, change.status, change.note),
    )


@router.post("/incidents/{incident_id}/reviews", responses=INCIDENT)
def review(
    request: Request,
    incident_id: RecordId,
    body: ReviewIn,
    viewer: Annotated[Viewer, Depends(reviewer)],
) -> IncidentDetail:
    return _change(
        request,
        viewer,
        incident_id,
        lambda s, user, i: logic.review(s, user, i, body.decision, body.note),
    )


@router.post("/incidents/{incident_id}/comments", responses=INCIDENT)
def comment(
    request: Request,
    incident_id: RecordId,
    body: CommentIn,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> IncidentDetail:
    return _change(
        request, viewer, incident_id, lambda s, user, i: logic.comment(s, user, i, body.body)
    )


@router.post("/incidents/{incident_id}/assets", responses=INCIDENT | ASSET)
def link_asset(
    request: Request,
    incident_id: RecordId,
    body: LinkIn,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> IncidentDetail:
    def link(session, user, incident):
        start = "" if body.start is None else str(body.start)
        end = "" if body.end is None else str(body.end)
        link_segment(session, user, incident, body.sha256, start, end, body.note)

    return _change(request, viewer, incident_id, link)


@file_router.post("/match")
async def match(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    file: Annotated[UploadFile, File()],
) -> MatchResult:
    """Which footage a still or clip shows, and where; the file is not preserved."""
    try:
        return await match_upload(request, file)
    except (FingerprintError, ValueError) as exc:
        raise HTTPException(422, f"this file could not be matched: {exc}") from exc


@router.get("/search")
def search(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    q: Annotated[str, Query(min_length=1, max_length=500)],
) -> list[SearchHit]:
    return run_search(store_of(request), q)
