"""One asset: its page, its previews (blurred unless revealed), and its original (audited)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy import select

from testament.accounts import audit
from testament.catalog.models import Asset, Derivative
from testament.catalog.records import AmbiguousOrMissing, find_asset
from testament.fingerprint import FingerprintError
from testament.footage.query import match_file
from testament.investigate.incidents import incidents_for_asset
from testament.locker.custody import iter_events
from testament.media.thumbnails import ensure_previews, protective
from testament.store import Store
from testament.web.auth import Viewer, any_user, store_of
from testament.web.footage import group_of
from testament.web.pages import render

router = APIRouter(include_in_schema=False)
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
PRIVATE_CACHE = {"Cache-Control": "private, max-age=3600"}


def load_asset(store: Store, sha256: str) -> Asset:
    if not SHA256_RE.match(sha256):
        raise HTTPException(404, "An asset is named by the 64 hex digits of its SHA-256.")
    with store.read() as session:
        try:
            return find_asset(session, sha256)
        except AmbiguousOrMissing as exc:
            raise HTTPException(404, f"No asset {sha256}.") from exc


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def _audit(request: Request, viewer: Viewer, action: str, asset: Asset, **details: object) -> None:
    with store_of(request).write() as session:
        audit.record(
            session,
            viewer.username,
            action,
            f"asset:{asset.sha256}",
            dict(details) or None,
            client_of(request),
        )


@router.get("/assets/{sha256}")
def asset_page(
    request: Request, sha256: str, viewer: Annotated[Viewer, Depends(any_user)]
) -> Response:
    store = store_of(request)
    asset = load_asset(store, sha256)
    previews = ensure_previews(store, asset)
    with store.read() as session:
        group = group_of(session, asset.id)
        names = {a.id: a for a in [asset, *group.members]}
        incidents = incidents_for_asset(session, asset)
        custody = list(iter_events(session, f"asset:{asset.sha256}"))
        accesses = audit.entries(session, subject=f"asset:{asset.sha256}", limit=50)
    return render(
        request,
        "asset.html",
        asset=asset,
        thumbnail=next((p for p in previews if p.kind == "thumbnail"), None),
        keyframes=[p for p in previews if p.kind == "keyframe"],
        group=group,
        names=names,
        incidents=incidents,
        custody=custody,
        accesses=accesses,
    )


def _preview_response(
    request: Request, viewer: Viewer, asset: Asset, derivative: Derivative, clear: bool
) -> Response:
    data = store_of(request).blobs.open(derivative.sha256).read()
    if clear:
        _audit(request, viewer, "reveal", asset, derivative=derivative.sha256, kind=derivative.kind)
        return Response(data, media_type="image/jpeg", headers={"Cache-Control": "no-store"})
    return Response(protective(data), media_type="image/jpeg", headers=PRIVATE_CACHE)


@router.get("/assets/{sha256}/thumbnail")
def thumbnail(
    request: Request, sha256: str, viewer: Annotated[Viewer, Depends(any_user)], clear: bool = False
) -> Response:
    """Blurred and greyscale unless `clear` (which is a reveal, and audited)."""
    store = store_of(request)
    asset = load_asset(store, sha256)
    found = next((p for p in ensure_previews(store, asset) if p.kind == "thumbnail"), None)
    if found is None:
        raise HTTPException(
            404, "This asset has no thumbnail (not an image or video, or unreadable)."
        )
    return _preview_response(request, viewer, asset, found, clear)


@router.get("/assets/{sha256}/previews/{derivative_id}")
def preview(
    request: Request,
    sha256: str,
    derivative_id: int,
    viewer: Annotated[Viewer, Depends(any_user)],
    clear: bool = False,
) -> Response:
    store = store_of(request)
    asset = load_asset(store, sha256)
    with store.read() as session:
        found = session.get(Derivative, derivative_id)
    if found is None or found.asset_id != asset.id or found.kind not in ("thumbnail", "keyframe"):
        raise HTTPException(404, "No such preview of this asset.")
    return _preview_response(request, viewer, asset, found, clear)


@router.get("/assets/{sha256}/original")
def original(
    request: Request,
    sha256: str,
    viewer: Annotated[Viewer, Depends(any_user)],
    download: bool = False,
) -> Response:
    """The preserved bytes. Every view and download is audited (not every range request)."""
    store = store_of(request)
    asset = load_asset(store, sha256)
    path = store.blobs.local_path(asset.sha256)
    if path is None or not path.exists():
        raise HTTPException(404, "The original is not in this blob store.")
    byte_range = request.headers.get("range", "")
    if not byte_range or byte_range.replace(" ", "").startswith("bytes=0-"):
        _audit(request, viewer, "download_original" if download else "view_original", asset)
    name = asset.original_filename or asset.sha256
    return FileResponse(
        path,
        media_type=asset.mime_type or "application/octet-stream",
        filename=name,
        content_disposition_type="attachment" if download else "inline",
        headers={"Cache-Control": "no-store"},
    )


@router.post("/assets/{sha256}/reveal")
def reveal(request: Request, sha256: str, viewer: Annotated[Viewer, Depends(any_user)]) -> Response:
    """Recorded before the browser lifts the blur from the player."""
    asset = load_asset(store_of(request), sha256)
    _audit(request, viewer, "reveal", asset, what="player")
    return JSONResponse({"revealed": asset.sha256})


@router.post("/assets/{sha256}/matches")
def asset_matches(
    request: Request, sha256: str, viewer: Annotated[Viewer, Depends(any_user)]
) -> Response:
    store = store_of(request)
    asset = load_asset(store, sha256)
    path = store.blobs.local_path(asset.sha256)
    assert path is not None  # the local blob store always has one
    result, error = None, None
    try:
        result = match_file(store, path)
    except FingerprintError as exc:
        error = f"This file could not be matched: {exc}"
    else:  # the asset itself is no news on its own page
        result["matches"] = [m for m in result["matches"] if m["sha256"] != asset.sha256]
    with store.read() as session:
        known = {
            a.sha256: a
            for a in session.execute(
                select(Asset).where(
                    Asset.sha256.in_([m["sha256"] for m in (result or {}).get("matches", [])])
                )
            ).scalars()
        }
    return render(request, "match.html", result=result, error=error, known=known, query_asset=asset)
