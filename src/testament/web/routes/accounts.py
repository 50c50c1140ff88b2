"""Logging in and out, replacing a one-time password, and personal API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from testament.accounts import users
from testament.accounts.models import ApiToken, User
from testament.catalog.models import utcnow
from testament.web.auth import SESSION_COOKIE, Viewer, any_user, password_change, store_of
from testament.web.pages import render
from testament.web.params import RecordId
from testament.web.security import csrf_protect

router = APIRouter(include_in_schema=False)


def _next_page(value: str | None) -> str:
    """Only local paths: an open redirect would help phishing."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/library"


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=_next_page(next), error=None)


@router.post("/login", dependencies=[Depends(csrf_protect)])
def login(
    request: Request,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str | None, Form()] = None,
) -> Response:
    throttle = request.app.state.throttle
    client = request.client.host if request.client else "unknown"
    name = username.strip().lower()
    wait = throttle.wait_seconds(name, client)
    if wait:
        return render(
            request,
            "login.html",
            status_code=429,
            next=_next_page(next),
            error=f"Too many failed attempts. Try again in {(wait + 59) // 60} minutes.",
        )
    store = store_of(request)
    # A wrong password is found without the store's write lock, which serialises every
    # writer of every web process and worker: argon2 takes tens of milliseconds, and
    # anyone may send logins. A right one is checked again under the lock, where the
    # session is made (and an old hash upgraded), in case the password changed meanwhile.
    with store.read() as session:
        plausible = users.authenticate(session, name, password) is not None
    token = None
    if plausible:
        with store.write() as session:
            user = users.authenticate(session, name, password)
            token = users.start_session(session, user) if user else None
    if token is None:
        throttle.failed(name, client)
        return render(
            request,
            "login.html",
            status_code=401,
            next=_next_page(next),
            error="Wrong username or password.",
        )
    throttle.succeeded(name)
    response = RedirectResponse(_next_page(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.app.state.secure_cookies,
        path="/",
        max_age=int(users.SESSION_LIFETIME.total_seconds()),
    )
    return response


@router.post("/logout")
def logout(request: Request, _viewer: Annotated[Viewer, Depends(password_change)]) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        with store_of(request).write() as session:
            users.end_session(session, token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/account/password")
def password_page(
    request: Request, viewer: Annotated[Viewer, Depends(password_change)]
) -> Response:
    return render(request, "password.html", error=None)


@router.post("/account/password")
def change_password(
    request: Request,
    viewer: Annotated[Viewer, Depends(password_change)],
    current: Annotated[str, Form(max_length=1000)],
    new: Annotated[str, Form(max_length=1000)],
    repeat: Annotated[str, Form(max_length=1000)],
) -> Response:
    with store_of(request).write() as session:
        user = users.authenticate(session, viewer.username, current)
        error = None
        if user is None:
            error = "The current password is wrong."
        elif new != repeat:
            error = "The two new passwords differ."
        elif new == current:
            error = "Choose a password different from the current one."
        else:
            forced = user.must_change_password
            try:
                users.set_password(
                    session, user, new, keep_session=request.cookies.get(SESSION_COOKIE)
                )
            except users.AccountError as exc:
                error = str(exc).capitalize() + "."
    if error:
        return render(request, "password.html", status_code=400, error=error)
    # A one-time password stood between the user and their work: now they may start on it.
    return RedirectResponse("/library" if forced else "/account?changed=1", status_code=303)


@router.get("/account")
def account(request: Request, viewer: Annotated[Viewer, Depends(any_user)]) -> Response:
    with store_of(request).read() as session:
        tokens = (
            session.execute(
                select(ApiToken).where(ApiToken.user_id == viewer.id).order_by(ApiToken.id)
            )
            .scalars()
            .all()
        )
    return render(request, "account.html", tokens=tokens, new_token=None)


@router.post("/account/tokens")
def create_token(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    name: Annotated[str, Form(max_length=100)] = "api",
) -> Response:
    with store_of(request).write() as session:
        user = session.get(User, viewer.id)
        assert user is not None
        token = users.issue_token(session, user, name)
        session.flush()
        tokens = (
            session.execute(
                select(ApiToken).where(ApiToken.user_id == viewer.id).order_by(ApiToken.id)
            )
            .scalars()
            .all()
        )
    return render(request, "account.html", tokens=tokens, new_token=token)


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: RecordId, viewer: Annotated[Viewer, Depends(any_user)]
) -> Response:
    with store_of(request).write() as session:
        token = session.get(ApiToken, token_id)
        if token is not None and token.user_id == viewer.id and token.revoked_at is None:
            token.revoked_at = utcnow()
    return RedirectResponse("/account", status_code=303)
