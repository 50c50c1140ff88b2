"""Who is asking, and may they: the role check that every route declares.

A request is authenticated by an API token (`Authorization: Bearer ...`) or, failing
that, by the session cookie. Every route depends on exactly one `RoleCheck` (or is in
`PUBLIC`), which tests walk to prove that every route is checked for every role.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from testament.accounts.roles import allows
from testament.accounts.users import session_user, token_user
from testament.store import Store

SESSION_COOKIE = "testament_session"
PUBLIC = frozenset({"/login", "/static", "/api/openapi.json", "/healthz"})


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
    """The viewer and whether they must change their password, or None."""
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


class RoleCheck:
    """A dependency: the request's user, who must hold at least `role`."""

    def __init__(self, role: str, *, before_password_change: bool = False) -> None:
        self.role = role
        self.before_password_change = before_password_change

    def __call__(self, request: Request) -> Viewer:
        found = authenticate(request)
        if found is None:
            raise NotLoggedIn
        viewer, must_change = found
        if must_change and not self.before_password_change:
            raise PasswordChangeNeeded
        if not viewer.may(self.role):
            raise Forbidden
        request.state.viewer = viewer
        return viewer


any_user = RoleCheck("viewer")
investigator = RoleCheck("investigator")
reviewer = RoleCheck("reviewer")
admin = RoleCheck("admin")
password_change = RoleCheck("viewer", before_password_change=True)
