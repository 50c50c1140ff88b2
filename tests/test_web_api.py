"""The JSON API: token authentication, incidents with review by a second user, search, match."""

from __future__ import annotations

from pathlib import Path

from testament.accounts import users
from tests import web_support as ws
from tests.media import make_image


def _token(store, name: str, role: str) -> dict[str, str]:
    ws.make_user(store, name, role)
    with store.write() as session:
        secret = users.issue_token(session, users.find_user(session, name), "test")
    return {"Authorization": f"Bearer {secret}"}


def test_api_flow_with_tokens(store, tmp_path: Path) -> None:
    ana, rev = _token(store, "ana", "investigator"), _token(store, "rev", "reviewer")
    viewer = _token(store, "vic", "viewer")
    sha256 = ws.small_video(store, tmp_path)
    api = ws.client(store)
    assert api.get("/api/assets").status_code == 401
    assert api.get("/api/assets", headers={"Authorization": "Bearer nope"}).status_code == 401
    assets = api.get("/api/assets", headers=viewer).json()
    assert [a["sha256"] for a in assets] == [sha256]
    assert api.get(f"/api/assets/{sha256}", headers=viewer).json()["captures"][0]["channel"]
    body = {
        "title": "Incident",
        "violations": ["torture"],
        "event_time": "2020-12-10T09:00:00Z",
        "latitude": 39.8,
        "longitude": 46.7,
    }
    assert api.post("/api/incidents", json=body, headers=viewer).status_code == 403
    created = api.post("/api/incidents", json=body, headers=ana)
    assert created.status_code == 201, created.text
    number = created.json()["id"]
    bad = api.post("/api/incidents", json=body | {"violations": ["no-such"]}, headers=ana)
    assert bad.status_code == 400 and "unknown violation type" in bad.text
    assert api.post("/api/incidents", json={"title": ""}, headers=ana).status_code == 422
    retired = {"title": "t", "perpetrators": [{"party": "Any party", "confidence": "possible"}]}
    assert api.post("/api/incidents", json=retired, headers=ana).status_code == 422
    linked = api.post(
        f"/api/incidents/{number}/assets",
        json={"sha256": sha256[:8], "start": 1, "end": 2},
        headers=ana,
    )
    assert linked.json()["assets"][0]["start"] == 1.0
    api.post(f"/api/incidents/{number}/status", json={"status": "needs_review"}, headers=ana)
    refused = api.post(
        f"/api/incidents/{number}/reviews", json={"decision": "verified"}, headers=ana
    )
    assert refused.status_code == 403
    verified = api.post(
        f"/api/incidents/{number}/reviews", json={"decision": "verified"}, headers=rev
    )
    assert verified.json()["status"] == "verified"
    feed = [e["kind"] for e in verified.json()["feed"]]
    assert feed == ["created", "asset_linked", "status", "review", "status"]
    hits = api.get("/api/search", params={"q": "demo clip"}, headers=viewer).json()
    assert hits and hits[0]["link"] == f"/assets/{sha256}"
    assert api.get("/api/openapi.json").json()["paths"]["/api/incidents"]


def test_api_match_and_its_errors(store, tmp_path: Path) -> None:
    viewer = _token(store, "vic", "viewer")
    sha256 = ws.ingest(store, make_image(tmp_path / "a.png", seed=9))
    api = ws.client(store)
    with (tmp_path / "a.png").open("rb") as handle:
        result = api.post("/api/match", files={"file": ("q.png", handle)}, headers=viewer)
    assert result.status_code == 200, result.text
    assert result.json()["matches"][0]["sha256"] == sha256
    broken = api.post("/api/match", files={"file": ("q.png", b"not an image")}, headers=viewer)
    assert broken.status_code == 422 and "could not be matched" in broken.text


def test_cookie_sessions_need_csrf_on_the_api(store) -> None:
    ws.make_user(store, "ana", "investigator")
    browser = ws.client(store)
    token = ws.login(browser, "ana")
    assert browser.post("/api/incidents", json={"title": "x"}).status_code == 403
    ok = browser.post("/api/incidents", json={"title": "x"}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 201
