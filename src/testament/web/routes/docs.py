"""Interactive API documentation: Swagger UI at /docs (and /api/docs), ReDoc at /redoc.

Both are served from files that the pinned `fastapi-offline` package ships, never from a
CDN, and started by a script of ours, so that they run within the workbench's
Content-Security-Policy: scripts only from this server, nothing inline. ReDoc writes its
styles into <style> elements it makes, which that policy refuses; its page alone allows
styles that carry the page's one-time nonce (ReDoc's `nonce` option), and nothing more.
Like every page, they are for signed-in people; /api/openapi.json itself stays public.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import fastapi_offline
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, Response

from testament.web.auth import Viewer, any_user
from testament.web.pages import render
from testament.web.security import content_security_policy

router = APIRouter(include_in_schema=False)
ASSETS = Path(fastapi_offline.__file__).parent / "static"
SERVED = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
}


def _swagger(request: Request) -> Response:
    return render(request, "api_docs.html", ui="swagger")


@router.get("/docs")
def swagger_ui(request: Request, viewer: Annotated[Viewer, Depends(any_user)]) -> Response:
    return _swagger(request)


@router.get("/api/docs")
def api_swagger_ui(request: Request, viewer: Annotated[Viewer, Depends(any_user)]) -> Response:
    return _swagger(request)


@router.get("/redoc")
def redoc(request: Request, viewer: Annotated[Viewer, Depends(any_user)]) -> Response:
    nonce = secrets.token_urlsafe(16)
    page = render(request, "api_docs.html", ui="redoc", nonce=nonce)
    policy = content_security_policy(request.app.state.tile_url)
    page.headers["Content-Security-Policy"] = policy.replace(
        "style-src 'self'", f"style-src 'self' 'nonce-{nonce}'", 1
    )
    return page


@router.get("/docs/assets/{name}")
def docs_asset(name: str, viewer: Annotated[Viewer, Depends(any_user)]) -> Response:
    """One of the bundled files; nothing else of the package's folder is reachable."""
    if name not in SERVED:
        raise HTTPException(404, f"No documentation file {name[:100]}.")
    return FileResponse(
        ASSETS / name,
        media_type=SERVED[name],
        headers={"Cache-Control": "private, max-age=86400"},
    )
