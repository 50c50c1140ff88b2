"""Creating users, checking passwords, and issuing login sessions and API tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.accounts.models import ApiToken, User, WebSession
from testament.accounts.roles import ROLES
from testament.catalog.models import utcnow

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MIN_PASSWORD = 10
SESSION_LIFETIME = timedelta(hours=12)
_hasher = PasswordHasher()
# Verified against when a username does not exist, so both cases take the same time.
_DUMMY_HASH = _hasher.hash("not a password anyone has")


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message says why."""


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def one_time_password() -> str:
    return secrets.token_urlsafe(12)


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    return role


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def find_user(session: Session, username: str) -> User | None:
    return session.execute(
        select(User).where(User.username == username.strip().lower())
    ).scalar_one_or_none()


def add_user(session: Session, username: str, role: str) -> tuple[User, str]:
    """A new user with a one-time password (returned, never stored) to change at first login."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise AccountError(
            "a username is 2-64 characters: lower-case letters, digits, '.', '_' or '-'"
        )
    if find_user(session, username) is not None:
        raise AccountError(f"user {username!r} already exists")
    password = one_time_password()
    user = User(
        username=username,
        role=check_role(role),
        password_hash=_hasher.hash(password),
        must_change_password=True,
    )
    session.add(user)
    session.flush()
    return user, password


def reset_password(session: Session, user: User) -> str:
    """Replace the password with a one-time one and end the user's sessions."""
    password = one_time_password()
    user.password_hash = _hasher.hash(password)
    user.must_change_password = True
    end_sessions(session, user)
    return password


def set_password(
    session: Session, user: User, password: str, keep_session: str | None = None
) -> None:
    """Replace the password and end the user's other sessions (keep the one making the change).

    Whoever knew the old password may be logged in somewhere: they are logged out.
    """
    user.password_hash = _hasher.hash(check_password(password))
    user.must_change_password = False
    end_sessions(session, user, keep=keep_session)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (in constant-ish time)."""
    user = find_user(session, username)
    try:
        _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    return user


def start_session(session: Session, user: User) -> str:
    """A new login session; returns the token for the cookie."""
    token = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_hash=digest(token), user_id=user.id, expires_at=utcnow() + SESSION_LIFETIME
        )
    )
    return token


def session_user(session: Session, token: str, now: datetime | None = None) -> User | None:
    found = session.execute(
        select(WebSession).where(WebSession.token_hash == digest(token))
    ).scalar_one_or_none()
    if found is None or found.expires_at <= (now or utcnow()) or not found.user.active:
        return None
    return found.user


def end_session(session: Session, token: str) -> None:
    found = session.execute(
        select(WebSession).where(WebSession.token_hash == digest(token))
    ).scalar_one_or_none()
    if found is not None:
        session.delete(found)


def end_sessions(session: Session, user: User, keep: str | None = None) -> None:
    """End every login session of `user`, except the one whose token is `keep`."""
    query = select(WebSession).where(WebSession.user_id == user.id)
    if keep is not None:
        query = query.where(WebSession.token_hash != digest(keep))
    for found in session.execute(query).scalars():
        session.delete(found)


def issue_token(session: Session, user: User, name: str) -> str:
    """A new API token for `user`; shown once, stored only as a digest."""
    token = "tst_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(token_hash=digest(token), user_id=user.id, name=name.strip()[:100] or "api")
    )
    return token


def token_user(session: Session, token: str) -> User | None:
    found = session.execute(
        select(ApiToken).where(ApiToken.token_hash == digest(token), ApiToken.revoked_at.is_(None))
    ).scalar_one_or_none()
    if found is None or not found.user.active:
        return None
    return found.user
