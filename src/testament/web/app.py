"""Building the workbench application around an open store."""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from testament import __version__
from testament.investigate import taxonomy
from testament.store import Store
from testament.web import settings as workbench_settings
from testament.web.auth import (
    AuthenticateFirst,
    Forbidden,
    NotLoggedIn,
    PasswordChangeNeeded,
    authenticate,
    login_required,
)
from testament.web.jobs import Jobs
from testament.web.pages import render
from testament.web.routes import (
    accounts,
    actors,
    admin,
    api,
    assets,
    docs,
    faces,
    incidents,
    library,
    matching,
    overview,
    search,
    upload,
    watch,
)
from testament.web.security import LoginThrottle, SecurityHeaders, content_security_policy

STATIC = Path(__file__).parent / "static"
TILE_URL_ENV = "TESTAMENT_TILE_URL"
SECURE_COOKIES_ENV = "TESTAMENT_SECURE_COOKIES"
SETTINGS_REFRESH_SECONDS = 1.0
log = logging.getLogger(__name__)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return render(request, "error.html", status_code=status, status=status, message=message)


def _recognise(request: Request) -> None:
    """Note who is signed in, so that a page no route answered still shows their navigation."""
    found = authenticate(request)
    if found is not None and not found[1]:  # not while a one-time password awaits its change
        request.state.viewer = found[0]


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, _exc: NotLoggedIn) -> Response:
        return login_required(request)

    @app.exception_handler(PasswordChangeNeeded)
    async def password_change(request: Request, _exc: PasswordChangeNeeded) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": "replace the one-time password in the workbench first"}, status_code=403
            )
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, _exc: Forbidden) -> Response:
        viewer = getattr(request.state, "viewer", None)
        role = viewer.role if viewer else "your role"
        return _error(request, 403, f"The {role} role does not allow this.")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if not hasattr(request.state, "viewer"):  # no route ran: an address that is no page
            await run_in_threadpool(_recognise, request)
        message = str(exc.detail)
        if exc.status_code == 404 and message == HTTPStatus.NOT_FOUND.phrase:
            message = f"There is no page at {request.url.path}."
        return _error(request, exc.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        # Only where and what: the errors' own context may hold exception objects.
        problems = [
            {"loc": [str(part) for part in e["loc"]], "msg": str(e["msg"]), "type": str(e["type"])}
            for e in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"detail": problems}, status_code=422)
        text = "; ".join(f"{'.'.join(p['loc'][1:]) or 'request'}: {p['msg']}" for p in problems)
        return _error(request, 400, f"The request was not understood: {text}")

    @app.exception_handler(DataError)
    async def unstorable(request: Request, exc: DataError) -> Response:
        """The catalog refused a value that passed validation: the request's fault, not ours."""
        log.warning("catalog refused a value in %s %s: %s", request.method, request.url.path, exc)
        return _error(
            request,
            400,
            "The catalog cannot store a value in this request: a number out of range, "
            "or a character that text may not hold (such as NUL).",
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        """A fault of ours: the details go to the server's log, never to the client."""
        reference = uuid.uuid4().hex[:12]
        log.error(
            "unexpected error %s in %s %s",
            reference,
            request.method,
            request.url.path,
            exc_info=exc,
        )
        return _error(
            request,
            500,
            f"Something went wrong on the server; its log has the details (reference {reference}).",
        )


class SharedSettings:
    """Re-reads the admin's settings from the catalog, at most once a second.

    Another web process may have saved a new tile URL; without this, this process would
    keep serving the old one (and a CSP allowing the old tile server) until restarted.
    """

    def __init__(self, app: ASGIApp, store: Store, default_tiles: str | None) -> None:
        self.app, self.store, self.default_tiles = app, store, default_tiles
        self.next_read = time.monotonic() + SETTINGS_REFRESH_SECONDS

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and time.monotonic() >= self.next_read:
            self.next_read = time.monotonic() + SETTINGS_REFRESH_SECONDS
            scope["app"].state.tile_url = await run_in_threadpool(
                workbench_settings.tile_url, self.store, self.default_tiles
            )
        await self.app(scope, receive, send)


@asynccontextmanager
async def _finish_uploads(app: FastAPI) -> AsyncIterator[None]:
    """On shutdown, wait for this process's uploads: a file half-ingested is not preserved."""
    yield
    jobs: Jobs = app.state.jobs
    if jobs.running():
        log.info("waiting for %d upload(s) to finish before shutting down", jobs.running())
    await run_in_threadpool(jobs.wait)


def create_app(
    store: Store,
    *,
    secure_cookies: bool = False,
    tile_url: str | None = None,
    max_upload_bytes: int | None = None,
) -> FastAPI:
    """The workbench for `store`; `secure_cookies` when served over HTTPS.

    Request bodies are capped: uploads and files to match at `max_upload_bytes` (else
    TESTAMENT_MAX_UPLOAD_BYTES, else 4 GiB), every other form or JSON body at 1 MiB.
    """
    upload_cap = workbench_settings.max_upload_bytes(max_upload_bytes)
    app = FastAPI(
        title="testament workbench API",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        max_body_size=workbench_settings.MAX_FORM_BYTES,
        lifespan=_finish_uploads,
    )
    app.state.store = store
    app.state.jobs = Jobs()
    app.state.throttle = LoginThrottle(store.engine)
    app.state.secure_cookies = secure_cookies
    with store.write() as session:
        taxonomy.ensure_defaults(session)
    default_tiles = tile_url if tile_url is not None else os.environ.get(TILE_URL_ENV)
    app.state.tile_url = workbench_settings.tile_url(store, default_tiles)
    app.add_middleware(AuthenticateFirst)
    app.add_middleware(SharedSettings, store=store, default_tiles=default_tiles)
    app.add_middleware(
        SecurityHeaders,
        csp=lambda: content_security_policy(app.state.tile_url),
        secure_cookies=secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in (accounts, library, assets, incidents, search, overview, admin, api, watch, docs):
        app.include_router(router.router)
    app.include_router(watch.api_router)
    app.include_router(actors.router)
    app.include_router(actors.api_router)
    app.include_router(faces.router)
    app.include_router(faces.api_router)
    for router in (upload.router, matching.router, api.file_router):  # they take whole files
        app.include_router(router, max_body_size=upload_cap)
    _install_error_pages(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def app_from_environment() -> FastAPI:
    """The workbench for the store that the environment names (TESTAMENT_HOME and the rest).

    Each of `testament serve --workers N`'s processes calls this to build its own app;
    they share nothing but the catalog, the blob store and the store folder.
    """
    from testament import config
    from testament.store import open_store

    store = open_store(config.resolve())
    return create_app(store, secure_cookies=os.environ.get(SECURE_COOKIES_ENV) == "1")
