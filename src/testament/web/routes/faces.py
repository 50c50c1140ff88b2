"""Face clusters: a page and the JSON API for investigators, crops blurred until revealed.

Viewers are refused (403); while faces are off for the store, everyone is told so (409;
the admin's setting is on the API). Each face crop sent, blurred or clear, is recorded in the audit.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from testament.accounts.models import User
from testament.actors.actors import ActorError
from testament.actors.attributions import basis_dict
from testament.catalog.records import AmbiguousOrMissing, find_asset
from testament.faces import access
from testament.faces.cite import cite
from testament.faces.clusters import LEAD, cluster_list
from testament.faces.setting import FacesOff, NotAllowed, enabled, set_enabled
from testament.media.thumbnails import protective
from testament.web import face_schemas as s
from testament.web.auth import Viewer, admin, investigator, store_of
from testament.web.evidence import EVIDENCE_HEADERS, AuditedBytes
from testament.web.pages import render
from testament.web.params import RecordId
from testament.web.routes.api import ERRORS, _error
from testament.web.routes.assets import client_of

router = APIRouter(include_in_schema=False)
api_router = APIRouter(
    prefix="/api",
    tags=["faces"],
    responses=ERRORS | {409: _error("Faces are off for this store; an admin turns them on.")},
)
SHA256 = Annotated[str | None, Query(min_length=4, max_length=64, pattern="^[0-9a-fA-F]+$")]


def _clusters(request: Request, viewer: Viewer, sha256: str | None) -> list[dict[str, Any]]:
    with store_of(request).read() as session:
        _check(session, viewer)
        chosen = None
        if sha256:
            try:
                chosen = find_asset(session, sha256.lower()).sha256
            except AmbiguousOrMissing as exc:
                raise HTTPException(404, str(exc)) from exc
        return cluster_list(session, chosen)


def _check(session: Session, viewer: Viewer) -> None:
    try:
        access.check(session, viewer.role)
    except NotAllowed as exc:
        raise HTTPException(409 if isinstance(exc, FacesOff) else 403, str(exc)) from exc


@router.get("/faces")
def faces_page(
    request: Request, viewer: Annotated[Viewer, Depends(investigator)], sha256: SHA256 = None
) -> Response:
    return render(
        request, "faces.html", clusters=_clusters(request, viewer, sha256), lead=LEAD, sha256=sha256
    )


@router.get("/faces/{face_id}/crop")
def face_crop(
    request: Request,
    face_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
    clear: bool = False,
) -> Response:
    """The crop, blurred and greyscale unless `clear`; each one sent is audited."""
    store = store_of(request)
    with store.read() as session:
        _check(session, viewer)
        found = access.crop(session, face_id)
    if found is None:
        raise HTTPException(404, "No such face crop.")
    face, derivative, asset = found
    with store.blobs.open(derivative.sha256) as stored:
        data = stored.read()

    def record(byte_range: str | None) -> None:
        with store.write() as session:
            access.audit_view(
                session, viewer.username, face, asset, clear=clear, client=client_of(request)
            )

    if not clear:
        record(None)
        return Response(protective(data), media_type="image/jpeg", headers=EVIDENCE_HEADERS)
    return AuditedBytes(data, mime="image/jpeg", audit=record)


@api_router.get("/faces")
def api_clusters(
    request: Request, viewer: Annotated[Viewer, Depends(investigator)], sha256: SHA256 = None
) -> s.FaceClusters:
    """Face clusters across the locker (or with a face in one asset): leads, never
    identifications. Investigators, reviewers and admins, while faces are on."""
    return s.FaceClusters(lead=LEAD, clusters=_clusters(request, viewer, sha256))


@api_router.get("/faces/setting")
def api_setting(request: Request, viewer: Annotated[Viewer, Depends(admin)]) -> s.FacesSetting:
    """Whether faces are on for this store (admins)."""
    with store_of(request).read() as session:
        return s.FacesSetting(enabled=enabled(session))


@api_router.post("/faces/setting")
def api_change_setting(
    request: Request, viewer: Annotated[Viewer, Depends(admin)], given: s.FacesSetting
) -> s.FacesSetting:
    """Turn faces on or off for this store (admins); each change is a custody event."""
    store = store_of(request)
    with store.write() as session:
        user = session.get(User, viewer.id)
        assert user is not None
        set_enabled(store, session, user, given.enabled)
    return given


@api_router.post(
    "/faces/clusters/{cluster_id}/cite",
    status_code=201,
    responses={404: _error("No such cluster or attribution.")},
)
def api_cite(
    request: Request,
    cluster_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
    given: s.CiteIn,
) -> list[s.CitedBasis]:
    """Add the cluster's sightings to an attribution as "face in another video" bases."""
    store = store_of(request)
    try:
        with store.write() as session:
            _check(session, viewer)
            user = session.get(User, viewer.id)
            assert user is not None
            made = cite(session, user, cluster_id, given.attribution_id, given.note)
            return [basis_dict(b) for b in made]
    except NotAllowed as exc:
        status = 404 if str(exc).startswith("no face cluster") else 403
        raise HTTPException(status, str(exc)) from exc
    except ActorError as exc:
        status = 404 if str(exc).startswith("no attribution") else 400
        raise HTTPException(status, str(exc)) from exc
