"""Building the workbench application around an open store."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from testament import __version__
from testament.investigate import taxonomy
from testament.store import Store
from testament.web import settings as workbench_settings
from testament.web.auth import Forbidden, NotLoggedIn, PasswordChangeNeeded
from testament.web.jobs import Jobs
from testament.web.pages import render
from testament.web.routes import (
    accounts,
    admin,
    api,
    assets,
    incidents,
    library,
    matching,
    overview,
    search,
    upload,
)
from testament.web.security import (
    LoginThrottle,
    SecurityHeaders,
    content_security_policy,
    csrf_protect,
)

STATIC = Path(__file__).parent / "static"
TILE_URL_ENV = "TESTAMENT_TILE_URL"


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status)
    return render(request, "error.html", status_code=status, status=status, message=message)


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(NotLoggedIn)
    async def not_logged_in(request: Request, _exc: NotLoggedIn) -> Response:
        if _wants_json(request):
            return JSONResponse(
                {"detail": "authentication required: send 'Authorization: Bearer <token>'"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)

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
        return _error(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.errors()}, status_code=422)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'request'}: {e['msg']}"
            for e in exc.errors()
        )
        return _error(request, 400, f"The request was not understood: {problems}")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        return _error(request, 500, f"Something went wrong: {type(exc).__name__}: {exc}")


def create_app(
    store: Store, *, secure_cookies: bool = False, tile_url: str | None = None
) -> FastAPI:
    """The workbench for `store`; `secure_cookies` when served over HTTPS."""
    app = FastAPI(
        title="testament workbench API",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/openapi.json",
        dependencies=[Depends(csrf_protect)],
    )
    app.state.store = store
    app.state.jobs = Jobs()
    app.state.throttle = LoginThrottle()
    app.state.secure_cookies = secure_cookies
    with store.write() as session:
        taxonomy.ensure_defaults(session)
    default_tiles = tile_url if tile_url is not None else os.environ.get(TILE_URL_ENV)
    app.state.tile_url = workbench_settings.tile_url(store, default_tiles)
    app.add_middleware(
        SecurityHeaders,
        csp=lambda: content_security_policy(app.state.tile_url),
        secure_cookies=secure_cookies,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for module in (
        accounts,
        library,
        assets,
        upload,
        matching,
        incidents,
        search,
        overview,
        admin,
        api,
    ):
        app.include_router(module.router)
    _install_error_pages(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
