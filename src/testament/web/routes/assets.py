"""One asset: its page, its previews (blurred unless revealed), and its original (audited).

Every response that carries stored bytes goes through `testament.web.evidence`, which
decides how they may be shown and audits each one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from testament.accounts import audit
from testament.catalog.models import Asset, Derivative
from testament.catalog.records import Ambiguous, AmbiguousOrMissing, NoMatch, find_asset
from testament.enrich.view import analyses_view
from testament.fingerprint import FingerprintError
from testament.footage.query import match_file
from testament.investigate.incidents import incidents_for_asset
from testament.jobs import state as job_state
from testament.jobs.state import JobView
from testament.locker.blobstore import local_file
from testament.locker.custody import iter_events
from testament.media.sniff import looks_like_text
from testament.media.thumbnails import ensure_previews, protective
from testament.store import Store
from testament.web.auth import Viewer, any_user, store_of
from testament.web.evidence import (
    AuditedBlob,
    AuditedBytes,
    AuditedFile,
    original_inline_type,
    protected_bytes,
)
from testament.web.footage import group_of
from testament.web.jobs import acting_as
from testament.web.pages import render
from testament.web.params import RecordId

router = APIRouter(include_in_schema=False)
# How much of a text original the inert view shows; the rest is in the download.
TEXT_VIEW_LIMIT = 1 << 20


def load_asset(store: Store, sha256: str) -> Asset:
    """The asset named by its SHA-256 or a unique prefix of it (as on the command line)."""
    with store.read() as session:
        try:
            return find_asset(session, sha256)
        except NoMatch as exc:
            raise HTTPException(404, f"No asset {sha256[:64]}.") from exc
        except Ambiguous as exc:
            raise HTTPException(409, f"{str(exc).capitalize()}.") from exc
        except AmbiguousOrMissing as exc:
            raise HTTPException(
                400, "An asset is named by its SHA-256 or a prefix of at least 4 hex digits."
            ) from exc


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def _audit(request: Request, viewer: Viewer, action: str, asset: Asset, **details: object) -> None:
    with store_of(request).write() as session:
        audit.record(
            session,
            viewer.username,
            action,
            f"asset:{asset.sha256}",
            {k: v for k, v in details.items() if v is not None} or None,
            client_of(request),
        )


def previews_for(request: Request, viewer: Viewer, asset: Asset) -> list[Derivative]:
    """The asset's previews; any made now are recorded in custody as the viewer's doing."""
    return ensure_previews(acting_as(store_of(request), viewer.username), asset)


@router.get("/assets/{sha256}")
def asset_page(
    request: Request, sha256: str, viewer: Annotated[Viewer, Depends(any_user)]
) -> Response:
    store = store_of(request)
    asset = load_asset(store, sha256)
    previews = previews_for(request, viewer, asset)
    with store.read() as session:
        group = group_of(session, asset.id)
        names = {a.id: a for a in [asset, *group.members]}
        incidents = incidents_for_asset(session, asset)
        custody = list(iter_events(session, f"asset:{asset.sha256}"))
        accesses = audit.collapsed(audit.entries(session, subject=f"asset:{asset.sha256}"))
        jobs = [JobView.of(r) for r in job_state.for_asset(session, asset.id)]
        analyses = analyses_view(session, asset.id)
    return render(
        request,
        "asset.html",
        analyses=analyses,
        asset=asset,
        inline_type=original_inline_type(asset),
        thumbnail=next((p for p in previews if p.kind == "thumbnail"), None),
        keyframes=[p for p in previews if p.kind == "keyframe"],
        group=group,
        names=names,
        incidents=incidents,
        custody=custody,
        accesses=accesses,
        jobs=jobs,
    )


def _preview_response(
    request: Request, viewer: Viewer, asset: Asset, derivative: Derivative, clear: bool
) -> Response:
    with store_of(request).blobs.open(derivative.sha256) as stored:
        data = stored.read()
    mime = derivative.media_type or "image/jpeg"
    if not clear:
        return protected_bytes(protective(data), mime)

    def record(byte_range: str | None) -> None:
        _audit(
            request,
            viewer,
            "reveal",
            asset,
            derivative=derivative.sha256,
            kind=derivative.kind,
            range=byte_range,
        )

    return AuditedBytes(data, mime=mime, audit=record)


@router.get("/assets/{sha256}/thumbnail")
def thumbnail(
    request: Request, sha256: str, viewer: Annotated[Viewer, Depends(any_user)], clear: bool = False
) -> Response:
    """Blurred and greyscale unless `clear` (which is a reveal, and audited)."""
    store = store_of(request)
    asset = load_asset(store, sha256)
    found = next((p for p in previews_for(request, viewer, asset) if p.kind == "thumbnail"), None)
    if found is None:
        raise HTTPException(
            404, "This asset has no thumbnail (not an image or video, or unreadable)."
        )
    return _preview_response(request, viewer, asset, found, clear)


@router.get("/assets/{sha256}/previews/{derivative_id}")
def preview(
    request: Request,
    sha256: str,
    derivative_id: RecordId,
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
    """The preserved bytes: inline only as safe media, else a download; each request audited."""
    store = store_of(request)
    asset = load_asset(store, sha256)
    path = store.blobs.local_path(asset.sha256)
    size = store.blobs.size(asset.sha256)
    if size is None:
        raise HTTPException(404, "The original is not in this blob store.")
    shown = None if download else original_inline_type(asset)
    action = "view_original" if shown else "download_original"

    def record(byte_range: str | None) -> None:
        _audit(request, viewer, action, asset, range=byte_range)

    filename = asset.original_filename or asset.sha256
    if path is None:  # object storage: streamed, a range at a time
        return AuditedBlob(
            store.blobs, asset.sha256, size, inline_as=shown, filename=filename, audit=record
        )
    return AuditedFile(path, inline_as=shown, filename=filename, audit=record)


@router.get("/assets/{sha256}/text")
def original_as_text(
    request: Request, sha256: str, viewer: Annotated[Viewer, Depends(any_user)]
) -> Response:
    """The original's characters as escaped text: a page, script or SVG read, never run."""
    store = store_of(request)
    asset = load_asset(store, sha256)
    with store.blobs.open(asset.sha256) as stored:
        head = stored.read(TEXT_VIEW_LIMIT + 1)
    text = None
    if looks_like_text(head[:4096]):
        text = head[:TEXT_VIEW_LIMIT].decode("utf-8", errors="replace")
        _audit(request, viewer, "view_original", asset, shown_as="text")
    return render(
        request,
        "text_view.html",
        asset=asset,
        text=text,
        truncated=len(head) > TEXT_VIEW_LIMIT,
        limit=TEXT_VIEW_LIMIT,
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
    result, error = None, None
    try:
        with local_file(store.blobs, asset.sha256) as path:
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
