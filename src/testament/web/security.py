"""Browser-facing defences: security headers with a strict CSP, CSRF tokens, login throttling.

CSRF uses a double-submit token: a random value in an HttpOnly, SameSite=Strict cookie
that every state-changing request must repeat in a form field or the X-CSRF-Token
header. Pages render the value; another site can neither read it nor send the cookie.
Requests authenticated with an API token carry no ambient credentials and are exempt.
Nothing here is kept in one process: the token lives in the browser, and the login
throttle (`accounts/throttle.py`) in the catalog, so any number of web processes agree.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import urlparse

from fastapi import HTTPException, Request, Response
from starlette.middleware.base import BaseHTTPMiddleware

from testament.accounts.throttle import LoginThrottle

__all__ = ["LoginThrottle", "SecurityHeaders", "content_security_policy", "csrf_protect"]

CSRF_COOKIE = "testament_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


LEAFLET_SUBDOMAINS = "abc"  # what Leaflet puts in place of {s} in a tile URL


def tile_origins(tile_url: str) -> list[str]:
    """The origins a tile URL makes the browser ask: none for "", one per {s} value."""
    hosts = [letter for letter in LEAFLET_SUBDOMAINS] if "{s}" in tile_url else [""]
    origins = []
    for letter in hosts:
        parsed = urlparse(tile_url.replace("{s}", letter))
        if parsed.scheme in ("http", "https") and parsed.netloc:
            origins.append(f"{parsed.scheme}://{parsed.netloc}")
    return origins


def content_security_policy(tile_url: str) -> str:
    """Everything only from this server; map tiles also from a configured tile server."""
    tiles = "".join(f" {origin}" for origin in tile_origins(tile_url))
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; "
        f"img-src 'self' data:{tiles}; media-src 'self'; connect-src 'self'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )


class SecurityHeaders(BaseHTTPMiddleware):
    """Adds the CSP and friends to every response and gives each browser a CSRF cookie."""

    def __init__(self, app, csp: Callable[[], str], secure_cookies: bool) -> None:
        super().__init__(app)
        self.csp = csp
        self.secure_cookies = secure_cookies

    async def dispatch(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        new_token = None
        if not request.cookies.get(CSRF_COOKIE):
            new_token = secrets.token_urlsafe(32)
        request.state.csrf = request.cookies.get(CSRF_COOKIE) or new_token
        response = await call_next(request)
        headers = response.headers
        # Responses carrying evidence set their own, stricter policy (a sandbox).
        headers.setdefault("Content-Security-Policy", self.csp())
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers.setdefault("Cache-Control", "no-store")
        if new_token:
            response.set_cookie(
                CSRF_COOKIE,
                new_token,
                httponly=True,
                samesite="strict",
                secure=self.secure_cookies,
                path="/",
            )
        return response


async def csrf_protect(request: Request) -> None:
    """Every state-changing request repeats the CSRF cookie, unless it uses an API token."""
    if request.method in SAFE_METHODS:
        return
    if request.headers.get("authorization", "").lower().startswith("bearer "):
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise HTTPException(
            403, "The form's security token is missing or out of date; reload the page and retry."
        )
