"""Security of the workbench: CSRF, CSP, cookies, login throttling, escaping hostile text."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text

from testament.accounts.models import User
from testament.web.app import STATIC
from testament.web.pages import TEMPLATES
from testament.web.security import LoginThrottle
from tests import web_support as ws


def test_state_changing_requests_need_the_csrf_token(store) -> None:
    ws.make_user(store, "amira", "admin")
    browser = ws.client(store)
    token = ws.csrf(browser)
    refused = browser.post("/login", data={"username": "amira", "password": ws.PASSWORD})
    assert refused.status_code == 403
    ws.login(browser, "amira")
    assert browser.post("/incidents", data={"title": "x"}).status_code == 403
    wrong = browser.post("/incidents", data={"title": "x", "csrf_token": token[::-1]})
    assert wrong.status_code == 403
    assert browser.post("/incidents", data={"title": "x", "csrf_token": token}).status_code == 303


def test_headers_and_cookies(store) -> None:
    ws.make_user(store, "amira", "viewer")
    browser = ws.client(store)
    page = browser.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    token = browser.cookies["testament_csrf"]
    response = browser.post(
        "/login", data={"username": "amira", "password": ws.PASSWORD, "csrf_token": token}
    )
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_no_inline_scripts_or_handlers_in_templates() -> None:
    for path in [*TEMPLATES.glob("*.html")]:
        html = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path.name
        assert not re.search(r"\son[a-z]+\s*=", html), path.name
        assert not re.search(r"\|\s*safe\b(?!_url)", html), path.name
    assert (STATIC / "vendor" / "htmx-2.0.11.min.js").exists()


def test_login_is_rate_limited(store) -> None:
    ws.make_user(store, "amira", "viewer")
    browser = ws.client(store)
    token = ws.csrf(browser)
    for _ in range(5):
        bad = {"username": "amira", "password": "wrong password", "csrf_token": token}
        assert browser.post("/login", data=bad).status_code == 401
    good = {"username": "amira", "password": ws.PASSWORD, "csrf_token": token}
    response = browser.post("/login", data=good)
    assert response.status_code == 429
    assert "Try again in" in response.text


def test_passwords_are_argon2_and_one_time_passwords_must_change(store, cli) -> None:
    result = cli("user", "add", "Amira", "--role", "admin")
    assert result.exit_code == 0, result.output
    password = re.search(r"One-time password: (\S+)", result.output).group(1)
    with store.read() as session:
        user = session.query(User).filter_by(username="amira").one()
        assert user.password_hash.startswith("$argon2id$")
    browser = ws.client(store)
    ws.login(browser, "amira", password)
    assert browser.get("/library").headers["location"] == "/account/password"
    assert cli("user", "add", "amira").exit_code == 2
    assert "unknown role" in cli("user", "add", "bob", "--role", "boss").output


def test_hostile_post_text_is_escaped_everywhere(store, tmp_path: Path) -> None:
    ws.make_user(store, "amira", "viewer")
    sha256 = ws.hostile_image(store, tmp_path)
    browser = ws.client(store)
    ws.login(browser, "amira")
    pages = [
        f"/assets/{sha256}",
        "/library",
        "/library?view=table",
        "/search?q=ceasefire",
        "/library?channel=" + ws.HOSTILE,
    ]
    for page in pages:
        html = browser.get(page).text
        assert "<script>alert" not in html and "<img src=x" not in html, page
    asset_page = browser.get(f"/assets/{sha256}").text
    assert "&lt;script&gt;alert(&#34;post&#34;)&lt;/script&gt;" in asset_page
    assert 'href="javascript:' not in asset_page


def test_login_redirects_only_to_local_pages(store) -> None:
    ws.make_user(store, "amira", "viewer")
    browser = ws.client(store)
    token = ws.csrf(browser)
    for target, expected in (("//evil.example/x", "/library"), ("/incidents", "/incidents")):
        browser.cookies.clear()
        token = ws.csrf(browser)
        response = browser.post(
            "/login",
            data={
                "username": "amira",
                "password": ws.PASSWORD,
                "csrf_token": token,
                "next": target,
            },
        )
        assert response.headers["location"] == expected


def test_the_login_throttle_stays_small_whatever_is_sent(store) -> None:
    """Throttled requests once stored an entry per name asked about: 15 MB per 20,000."""
    throttle = LoginThrottle(store.engine, max_keys=50)
    for number in range(300):
        assert throttle.wait_seconds(f"name{number}", "203.0.113.9") == 0
    assert len(throttle) == 0  # asking stores nothing
    for number in range(300):
        throttle.failed(f"name{number}", f"198.51.100.{number % 200}")
    assert 0 < len(throttle) <= 50
    for _ in range(5):
        throttle.failed("amira", "192.0.2.1")
    assert throttle.wait_seconds("amira", "192.0.2.7") > 0  # the latest failures are kept
    assert throttle.wait_seconds("bob", "192.0.2.7") == 0


def test_a_name_and_its_address_never_share_a_slot(store) -> None:
    """They once could: each failure overwrote the other and the name was never throttled."""
    throttle = LoginThrottle(store.engine, max_keys=2)
    for number in range(8):
        name, address = f"name{number}", f"198.51.100.{number}"
        for _ in range(5):
            throttle.failed(name, address)
        assert throttle.wait_seconds(name, "192.0.2.7") > 0, name


def test_the_login_throttle_is_shared_and_keeps_no_names(store) -> None:
    """Two throttles on one catalog (two web processes) count the same failures."""
    first, second = LoginThrottle(store.engine), LoginThrottle(store.engine)
    for throttle in (first, second, first, second):
        throttle.failed("amira", "192.0.2.1")
    assert second.wait_seconds("amira", "192.0.2.9") == 0
    first.failed("amira", "192.0.2.2")
    assert 0 < second.wait_seconds("amira", "192.0.2.9") <= 900
    second.succeeded("amira")
    assert first.wait_seconds("amira", "192.0.2.9") == 0
    with store.read() as session:
        stored = session.execute(text("SELECT key_hash FROM login_failures")).scalars().all()
    assert stored and not any("amira" in value or "192.0.2" in value for value in stored)


def test_throttled_logins_through_the_server_store_nothing_more(store) -> None:
    browser = ws.client(store)
    token = ws.csrf(browser)
    bad = {"password": "wrong password", "csrf_token": token}
    for number in range(25):
        browser.post("/login", data=bad | {"username": f"n{number}"})
    throttle = browser.app.state.throttle
    held = len(throttle)
    for number in range(300):
        response = browser.post("/login", data=bad | {"username": f"other{number}"})
        assert response.status_code == 429
    assert len(throttle) == held


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_wrong_password_does_not_wait_for_the_write_lock(store) -> None:
    """Failed logins held the store's write lock through argon2: anyone could stall writers."""
    ws.make_user(store, "amira", "viewer")
    browser = ws.client(store)
    wrong = {"username": "amira", "password": "wrong password", "csrf_token": ws.csrf(browser)}
    answers: list[int] = []
    attempt = threading.Thread(
        target=lambda: answers.append(browser.post("/login", data=wrong).status_code)
    )
    with psycopg.connect(store.settings.database_url, autocommit=True) as writer:
        writer.execute("SELECT pg_advisory_lock(7401)")  # the store's write lock, held elsewhere
        attempt.start()
        attempt.join(timeout=60)
        answered_while_locked = not attempt.is_alive()
        writer.execute("SELECT pg_advisory_unlock(7401)")
    attempt.join()
    assert answered_while_locked and answers == [401]


def _logged_in(store, username: str):
    browser = ws.client(store)
    return browser, ws.login(browser, username)


def test_a_password_change_ends_the_other_sessions(store) -> None:
    ws.make_user(store, "amira", "viewer")
    mine, token = _logged_in(store, "amira")
    stolen, _ = _logged_in(store, "amira")
    assert stolen.get("/library").status_code == 200
    changed = mine.post(
        "/account/password",
        data={
            "current": ws.PASSWORD,
            "new": "a much better password",
            "repeat": "a much better password",
            "csrf_token": token,
        },
    )
    assert changed.status_code == 303
    assert stolen.get("/library").status_code == 303  # sent to the login page
    assert mine.get("/library").status_code == 200


def test_an_admin_reset_ends_every_session(store) -> None:
    user_id = ws.make_user(store, "amira", "viewer")
    ws.make_user(store, "root", "admin")
    theirs, _ = _logged_in(store, "amira")
    admin, token = _logged_in(store, "root")
    assert admin.post(f"/admin/users/{user_id}/reset", data={"csrf_token": token}).is_success
    assert theirs.get("/library").status_code == 303
