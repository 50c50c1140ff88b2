"""Who is asking, and may they: the role check that every route declares.

A request is authenticated by an API token (`Authorization: Bearer ...`) or, failing
that, by the session cookie. Every route depends on exactly one `RoleCheck` (or is in
`PUBLIC`), which tests walk to prove that every route is checked for every role. The
role check also holds the CSRF check, so a request's form is read only once its sender
is known to be allowed; `AuthenticateFirst` sees to it that no body at all is read for
a sender who is not known.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from testament.accounts.roles import allows
from testament.accounts.users import session_user, token_user
from testament.store import Store
from testament.web.security import SAFE_METHODS, csrf_protect

SESSION_COOKIE = "testament_session"
PUBLIC = frozenset({"/login", "/static", "/api/openapi.json", "/healthz"})
# The only state-changing request that a stranger may send.
OPEN_FORMS = frozenset({"/login"})


class NotLoggedIn(Exception):
    """No valid session or token."""


class Forbidden(Exception):
    """Logged in, but the role does not allow this."""


class PasswordChangeNeeded(Exception):
    """The user still has a one-time password."""


@dataclass(frozen=True)
class Viewer:
    """The authenticated user as routes see it: plain values, safe outside any session."""

    id: int
    username: str
    role: str
    via_token: bool

    def may(self, role: str) -> bool:
        return allows(self.role, role)


def store_of(request: Request) -> Store:
    return request.app.state.store


def authenticate(request: Request) -> tuple[Viewer, bool] | None:
    """The viewer and whether they must change their password, or None (once per request)."""
    state = request.scope.setdefault("state", {})
    if "testament.authenticated" not in state:
        state["testament.authenticated"] = _look_up(request)
    return state["testament.authenticated"]


def _look_up(request: Request) -> tuple[Viewer, bool] | None:
    header = request.headers.get("authorization", "")
    with store_of(request).read() as session:
        if header.lower().startswith("bearer "):
            user = token_user(session, header[7:].strip())
            via_token = True
        elif token := request.cookies.get(SESSION_COOKIE):
            user = session_user(session, token)
            via_token = False
        else:
            return None
        if user is None:
            return None
        return Viewer(user.id, user.username, user.role, via_token), user.must_change_password


def login_required(request: Request) -> Response:
    """The answer to a request from nobody known: 401 for the API, the login page otherwise."""
    if request.url.path.startswith("/api/"):
        return JSONResponse(
            {"detail": "authentication required: send 'Authorization: Bearer <token>'"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return RedirectResponse(f"/login?next={request.url.path}", status_code=303)


class AuthenticateFirst:
    """No request body is read before its sender is known.

    FastAPI reads a route's form or JSON before the route's dependencies run, so an
    anonymous client could otherwise make the server parse, and spool to disk, a body
    of any size only to be refused afterwards. Here a state-changing request to anything
    but the login form is answered at once, its body unread, unless it carries a valid
    session or API token; the route's `RoleCheck` reuses the user found.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] not in SAFE_METHODS
            and scope["path"] not in OPEN_FORMS
        ):
            request = Request(scope)
            if await run_in_threadpool(authenticate, request) is None:
                await login_required(request)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class RoleCheck:
    """A dependency: the request's user, who must hold at least `role`.

    A state-changing request must then also carry the CSRF token: checked here, after
    the role, so that a form is parsed only for someone allowed to send it.
    """

    def __init__(self, role: str, *, before_password_change: bool = False) -> None:
        self.role = role
        self.before_password_change = before_password_change

    async def __call__(self, request: Request) -> Viewer:
        found = await run_in_threadpool(authenticate, request)
        if found is None:
            raise NotLoggedIn
        viewer, must_change = found
        if must_change and not self.before_password_change:
            raise PasswordChangeNeeded
        request.state.viewer = viewer  # also for the refusal page, which names the role
        if not viewer.may(self.role):
            raise Forbidden
        await csrf_protect(request)
        return viewer


any_user = RoleCheck("viewer")
investigator = RoleCheck("investigator")
reviewer = RoleCheck("reviewer")
admin = RoleCheck("admin")
password_change = RoleCheck("viewer", before_password_change=True)
