"""Bad requests get a plain 4xx; a fault of ours gets a 500 that names nothing of its cause."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from testament.accounts import users
from testament.web.app import create_app
from testament.web.routes import api
from tests import web_support as ws

HUGE = "99999999999999999999999"


def _browser_and_token(store) -> tuple[TestClient, str, dict[str, str]]:
    ws.make_user(store, "ana", "admin")
    browser = TestClient(create_app(store, tile_url=""), raise_server_exceptions=False)
    browser.follow_redirects = False
    csrf = ws.login(browser, "ana")
    with store.write() as session:
        secret = users.issue_token(session, users.find_user(session, "ana"), "t")
    return browser, csrf, {"Authorization": f"Bearer {secret}"}


def test_numbers_out_of_range_are_refused_plainly(store) -> None:
    browser, csrf, token = _browser_and_token(store)
    for url in (f"/incidents/{HUGE}", "/incidents/2147483648", "/incidents/0", "/incidents/-1"):
        page = browser.get(url)
        assert page.status_code == 400, url
        assert "incident_id" in page.text and "Overflow" not in page.text
    assert browser.get("/incidents/2147483647").status_code == 404
    assert browser.get(f"/api/incidents/{HUGE}", headers=token).status_code == 422
    for url in (f"/incidents/{HUGE}/comments", f"/admin/users/{HUGE}/reset"):
        refused = browser.post(url, data={"body": "x", "csrf_token": csrf})
        assert refused.status_code == 400, url
    edited = browser.post(
        "/admin/taxonomy",
        data={"code": "c", "label": "l", "category": "x", "type_id": HUGE, "csrf_token": csrf},
    )
    assert edited.status_code == 400


def test_bad_api_bodies_are_4xx_with_plain_messages(store) -> None:
    browser, _, token = _browser_and_token(store)
    bounds = {
        "title": "x",
        "event_time": "2020-01-01T00:00:00Z",
        "event_earliest": "2021-01-01T00:00:00Z",
    }
    for body in (bounds, {"title": 5}, {"victims": [{"count": HUGE}]}, []):
        response = browser.post("/api/incidents", json=body, headers=token)
        assert response.status_code == 422, body
        for problem in response.json()["detail"]:
            assert set(problem) == {"loc", "msg", "type"}
            assert isinstance(problem["msg"], str) and isinstance(problem["type"], str)
    # SQLite keeps a NUL in text; PostgreSQL cannot, which is the request's fault.
    nul_refused = store.engine.dialect.name == "postgresql"
    for body in ({"title": "x\x00y"}, {"title": "x", "tags": ["a\x00"]}):
        stored = browser.post("/api/incidents", json=body, headers=token)
        assert stored.status_code == (400 if nul_refused else 201), body
        if nul_refused:
            assert "cannot store a value" in stored.json()["detail"]
    broken = browser.post(
        "/api/incidents",
        content=b"{not json",
        headers=token | {"content-type": "application/json"},
    )
    assert broken.status_code == 422


def test_an_unexpected_fault_is_logged_not_shown(
    store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    browser, _, token = _browser_and_token(store)

    def broken(*_args):
        raise RuntimeError("secret connection string postgresql://u:pw@db")

    monkeypatch.setattr(api, "run_search", broken)
    with caplog.at_level(logging.ERROR, logger="testament.web.app"):
        response = browser.get("/api/search?q=x", headers=token)
    assert response.status_code == 500
    assert "secret" not in response.text and "RuntimeError" not in response.text
    assert "reference" in response.json()["detail"]
    assert "secret connection string" in caplog.text
