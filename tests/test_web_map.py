"""The maps ask no other server for anything unless a tile server is configured."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from testament.web.app import TILE_URL_ENV, create_app
from tests import web_support as ws

EXTERNAL = re.compile(r"https?://(?!testserver[/:])[\w.-]+(?::\d+)?", re.I)
MAP_PAGES = ("/map", "/incidents/new", "/admin")


def _admin_browser(app) -> TestClient:
    browser = TestClient(app, follow_redirects=False)
    ws.login(browser, "amira")
    return browser


def _own_scripts(browser: TestClient, page: str) -> list[str]:
    """The project's scripts the page loads (vendored libraries are not ours to edit)."""
    sources = re.findall(r'<script src="(/static/[^"]+)"', page)
    return [browser.get(src).text for src in sources if "/vendor/" not in src]


def test_by_default_no_page_script_or_policy_names_another_host(
    store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(TILE_URL_ENV, raising=False)
    ws.make_user(store, "amira", "admin")
    browser = _admin_browser(create_app(store))
    for path in MAP_PAGES:
        response = browser.get(path)
        assert response.status_code == 200, path
        csp = response.headers["content-security-policy"]
        assert EXTERNAL.findall(csp) == [], csp
        assert "img-src 'self' data:;" in csp and "connect-src 'self';" in csp
        if path != "/admin":  # the admin page explains tile servers in words, with no URL
            assert EXTERNAL.findall(response.text) == [], path
            assert 'data-tile-url=""' in response.text
        for script in _own_scripts(browser, response.text):
            assert EXTERNAL.findall(script) == [], path


def test_the_admin_page_says_what_a_tile_server_sees(store) -> None:
    ws.make_user(store, "amira", "admin")
    page = _admin_browser(create_app(store, tile_url="")).get("/admin").text
    assert "No tile server is configured" in page
    assert "which places the team is looking at" in page


@pytest.mark.parametrize(
    ("tile_url", "origins"),
    [
        ("https://tiles.example.org/{z}/{x}/{y}.png", ["https://tiles.example.org"]),
        (
            "https://{s}.tiles.example.org:8443/{z}/{x}/{y}.png",
            [f"https://{s}.tiles.example.org:8443" for s in "abc"],
        ),
    ],
)
def test_a_configured_tile_server_is_the_one_origin_allowed(
    store, tile_url: str, origins: list[str]
) -> None:
    ws.make_user(store, "amira", "admin")
    browser = _admin_browser(create_app(store, tile_url=tile_url))
    response = browser.get("/map")
    csp = response.headers["content-security-policy"]
    img_src = re.search(r"img-src ([^;]*);", csp)
    assert img_src is not None and img_src.group(1).split() == ["'self'", "data:", *origins]
    assert EXTERNAL.findall(csp) == origins
    assert f'data-tile-url="{tile_url}"' in response.text
    assert "which places the team is looking at" in browser.get("/admin").text


def test_the_environment_configures_the_tile_server(store, monkeypatch) -> None:
    monkeypatch.setenv(TILE_URL_ENV, "https://tiles.example.org/{z}/{x}/{y}.png")
    ws.make_user(store, "amira", "admin")
    csp = _admin_browser(create_app(store)).get("/map").headers["content-security-policy"]
    assert EXTERNAL.findall(csp) == ["https://tiles.example.org"]
