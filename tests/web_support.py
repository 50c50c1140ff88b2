"""Helpers for the workbench tests: users with known passwords, logged-in clients, evidence."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from fastapi.testclient import TestClient

from testament.accounts import users
from testament.collect.ingest import Ingest, default_steps
from testament.collect.items import Item, Sighting
from testament.store import Store
from testament.web.app import create_app
from testament.web.security import CSRF_COOKIE
from tests.media import make_image, make_video

PASSWORD = "correct horse battery"
HOSTILE = '<script>alert("post")</script><img src=x onerror=alert(1)>'


def make_user(store: Store, username: str, role: str) -> int:
    """A user whose password is PASSWORD and needs no change."""
    with store.write() as session:
        user, _ = users.add_user(session, username, role)
        users.set_password(session, user, PASSWORD)
        session.flush()
        return user.id


def client(store: Store) -> TestClient:
    return TestClient(create_app(store, tile_url=""), follow_redirects=False)


def csrf(browser: TestClient) -> str:
    if not browser.cookies.get(CSRF_COOKIE):
        browser.get("/login")
    return browser.cookies[CSRF_COOKIE]


def login(browser: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in; returns the CSRF token to send with forms."""
    token = csrf(browser)
    response = browser.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return token


def ingest(store: Store, path: Path, **sighting: object) -> str:
    """Preserve one file as if collected from a post; returns its sha256."""
    seen = Sighting(method="telegram", filename=path.name, **sighting)  # type: ignore[arg-type]
    summary = Ingest(store, steps=default_steps(store)).run([Item(path.name, seen, path=path)])
    sha256 = summary.results[0].sha256
    assert sha256 is not None
    return sha256


def hostile_image(store: Store, folder: Path) -> str:
    """An image whose post text, channel and URL are attacks on the page showing them."""
    return ingest(
        store,
        make_image(folder / "still.png", seed=3),
        platform="telegram",
        channel=HOSTILE,
        post_text=HOSTILE + " ceasefire village",
        url="javascript:alert(1)",
        posted_at=datetime(2020, 12, 10, 9, 30, tzinfo=UTC),
    )


def small_video(store: Store, folder: Path) -> str:
    return ingest(
        store,
        make_video(folder / "clip.mp4", seconds=4, seed=5),
        platform="telegram",
        channel="Demo channel",
        post_text="a clip from the demo",
        posted_at=datetime(2020, 12, 11, 8, 0, tzinfo=UTC),
    )


def links(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)
