"""Interactive API documentation, bundled and within the CSP, and typed API responses."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from testament.accounts import users
from tests import web_support as ws

DOC_PAGES = ("/docs", "/api/docs", "/redoc")


@pytest.fixture
def viewer(store):
    ws.make_user(store, "vic", "viewer")
    browser = ws.client(store)
    ws.login(browser, "vic")
    return browser


def test_docs_pages_load_only_this_servers_files(store, viewer) -> None:
    stranger = ws.client(store)
    for path in DOC_PAGES:
        page = viewer.get(path)
        assert page.status_code == 200, path
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources and all(s.startswith(("/", "data:")) for s in sources), sources
        assert "<script>" not in page.text and " style=" not in page.text
        for script in re.findall(r'<script src="([^"]+)"', page.text):
            served = viewer.get(script)
            assert served.status_code == 200 and "javascript" in served.headers["content-type"]
        expected = 401 if path.startswith("/api/") else 303
        assert stranger.get(path).status_code == expected, path
    swagger = viewer.get("/docs").text
    assert (
        "/docs/assets/swagger-ui-bundle.js" in swagger and "/docs/assets/swagger-ui.css" in swagger
    )
    assert "/docs/assets/redoc.standalone.js" in viewer.get("/redoc").text
    assert viewer.get("/docs/assets/swagger-ui.css").headers["content-type"].startswith("text/css")
    for name in ("core.py", "..%2Fcore.py", "favicon.png"):
        assert viewer.get(f"/docs/assets/{name}").status_code == 404, name
    assert stranger.get("/docs/assets/swagger-ui-bundle.js").status_code == 303


def test_the_policy_stays_strict_on_the_docs(viewer) -> None:
    """Scripts only from this server on every docs page; ReDoc's page alone lets through
    the <style> elements ReDoc makes, by a nonce that changes with every response."""
    base = viewer.get("/docs").headers["content-security-policy"]
    assert "script-src 'self';" in base and "style-src 'self';" in base
    assert viewer.get("/api/docs").headers["content-security-policy"] == base
    first, second = (viewer.get("/redoc") for _ in range(2))
    nonces = []
    for page in (first, second):
        policy = page.headers["content-security-policy"]
        (nonce,) = re.findall(r"style-src 'self' 'nonce-([\w-]+)';", policy)
        assert f'data-nonce="{nonce}"' in page.text
        assert policy.replace(f" 'nonce-{nonce}'", "") == base
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_every_api_answer_has_a_schema(store) -> None:
    schema = ws.client(store).get("/api/openapi.json").json()
    untyped = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if not status.startswith("2") or path.endswith("/original"):
                    continue
                body = response["content"]["application/json"]["schema"]
                if not body or body == {"type": "object"} or body.get("items") == {}:
                    untyped.append(f"{method.upper()} {path} {status}")
    assert untyped == []
    asset = schema["components"]["schemas"]["AssetDetail"]["properties"]
    assert {"sha256", "captures", "footage_links", "incidents"} <= set(asset)
    assert schema["components"]["schemas"]["ErrorOut"]["properties"]["detail"]


def test_typed_answers_keep_their_values_and_prefixes(store, tmp_path: Path) -> None:
    ws.make_user(store, "root", "admin")
    sha256 = ws.small_video(store, tmp_path)
    with store.write() as session:
        token = users.issue_token(session, users.find_user(session, "root"), "t")
    browser = ws.client(store)
    api = {"Authorization": f"Bearer {token}"}
    record = browser.get(f"/api/assets/{sha256[:8]}", headers=api).json()
    assert record["sha256"] == sha256 and record["captures"][0]["channel"] == "Demo channel"
    assert record["probe"]["duration"] > 3 and record["footage_links"] == []
    assert browser.get("/api/me", headers=api).json() == {"username": "root", "role": "admin"}
    bad = browser.get("/api/assets?limit=0", headers=api)
    assert bad.status_code == 422
    assert bad.json()["detail"][0] == {
        "loc": ["query", "limit"],
        "msg": "Input should be greater than or equal to 1",
        "type": "greater_than_equal",
    }
