"""The main flow in a real browser (Debian's Chromium driven by Playwright), with screenshots.

Screenshots land in test-artifacts/browser/ for people to look at.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from testament import config
from testament.accounts.users import find_user
from testament.store import Store, init_store
from testament.web.app import TILE_URL_ENV, create_app
from tests import web_support as ws
from tests.media import make_video
from tests.system import need, need_tool

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Store]]:
    """The workbench on a free local port, on SQLite, as configured by default (no tiles)."""
    monkeypatch.delenv(TILE_URL_ENV, raising=False)
    store, _ = init_store(config.resolve(home=tmp_path / "home", actor="tester"))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(store)
    instance = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=instance.run, daemon=True)
    thread.start()
    while not instance.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store
    instance.should_exit = True
    thread.join(10)
    store.close()


@pytest.fixture
def browser():
    need_tool("chromium", "apt-get install chromium (scripts/system-packages.sh does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        need(False, "playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _login(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(ws.PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/library"))


def test_investigator_and_reviewer_flow(server, browser, tmp_path: Path) -> None:
    base, store = server
    ws.make_user(store, "ana", "investigator")
    ws.make_user(store, "rev", "reviewer")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    elsewhere: list[str] = []  # by default the workbench asks no other server for anything
    page.on("request", lambda r: None if r.url.startswith(base) else elsewhere.append(r.url))

    _login(page, base, "ana")
    video = make_video(tmp_path / "courtyard.mp4", seconds=6, width=640, height=360, seed=7)
    page.goto(base + "/upload")
    page.set_input_files("#files", str(video))
    page.get_by_role("button", name="Preserve").click()
    page.wait_for_selector("text=finished", timeout=60_000)
    page.screenshot(path=ARTIFACTS / "01-upload.png", full_page=True)

    page.goto(base + "/library")
    thumb = page.locator(".tile img").first
    thumb.wait_for()
    assert "clear" not in thumb.get_attribute("src")
    page.screenshot(path=ARTIFACTS / "02-library-blurred.png", full_page=True)
    page.locator(".tile .reveal").first.click()
    page.get_by_role("heading", name="Content warning").wait_for()
    page.screenshot(path=ARTIFACTS / "03-content-warning.png")
    page.locator("#confirm-reveal").click()
    page.wait_for_function("document.querySelector('.tile img').src.includes('clear=1')")
    page.screenshot(path=ARTIFACTS / "04-library-revealed.png", full_page=True)

    page.locator(".tile a.title").first.click()
    page.wait_for_selector(".player video.protected")
    sha256 = page.url.rsplit("/", 1)[1]
    page.screenshot(path=ARTIFACTS / "05-asset.png", full_page=True)

    page.goto(base + "/incidents/new")
    page.get_by_label("Title", exact=True).fill("Shooting in a courtyard <demo>")
    page.get_by_label("Summary", exact=True).fill("Synthetic demo incident.")
    page.get_by_label("Wilful killing / murder of protected persons").check()
    page.get_by_label("Best estimate", exact=True).fill("2020-12-10T09:00")
    # Picking the location on the map fills the inputs; typing moves the marker.
    location_map = page.locator("#location-map")
    location_map.wait_for()
    location_map.click(position={"x": 300, "y": 120})
    latitude = float(page.get_by_label("Latitude", exact=True).input_value())
    longitude = float(page.get_by_label("Longitude", exact=True).input_value())
    assert -90 <= latitude <= 90 and -180 <= longitude <= 180
    assert location_map.get_attribute("data-marker") == f"{latitude:.5f},{longitude:.5f}"
    page.get_by_label("Latitude", exact=True).fill("39.8177")
    page.get_by_label("Longitude", exact=True).fill("46.7528")
    page.wait_for_selector("#location-map[data-marker='39.81770,46.75280']")
    page.locator("#perp-0-party").fill("Party named in the footage")
    page.locator("#perp-0-confidence").select_option("tentative")
    assert page.locator("#perp-1-party").count() == 0
    page.get_by_role("button", name="Add another perpetrator").click()
    page.locator("#perp-1-party").fill("Second party <b>seen</b>")
    page.locator("#perp-1-unit").fill("Checkpoint unit")
    page.locator("#perp-1-confidence").select_option("probable")
    page.locator("input[name='perp-1-basis'][value='uniform']").check()
    page.get_by_role("button", name="Add another victim group").click()
    page.locator("#victim-1-count").wait_for()
    page.locator("#victim-0-count").fill("2")
    page.locator("#victim-0-status").select_option("civilian")
    page.screenshot(path=ARTIFACTS / "05b-incident-form.png", full_page=True)
    # Enter on the focused button, not a pointer click: the layout may still be settling
    # after the full-page screenshot, and a click could land on "Cancel" beside it.
    page.get_by_role("button", name="Create incident").press("Enter")
    page.wait_for_url(re.compile(r"/incidents/\d+$"))
    incident_url = page.url
    saved = page.locator("dt:text-is('Alleged perpetrators') + dd > div").all_inner_texts()
    assert saved == [
        "Party named in the footage — tentative",
        "Second party <b>seen</b>, Checkpoint unit — probable (basis: uniform)",
    ]
    assert page.locator("dt:text-is('Victims') + dd > div").all_inner_texts() == ["2 · civilian"]
    page.locator("#link-sha").fill(sha256[:12])
    page.locator("#link-start").fill("0:01")
    page.locator("#link-end").fill("4")
    page.get_by_role("button", name="Link asset").click()
    page.wait_for_selector("text=segment 0:01.00–0:04.00")
    page.locator("#status").select_option("needs_review")
    page.get_by_role("button", name="Set status").click()
    page.wait_for_selector(".status-needs_review")
    page.screenshot(path=ARTIFACTS / "06-incident.png", full_page=True)
    context.clear_cookies()

    _login(page, base, "rev")
    page.goto(incident_url)
    page.locator("#decision").select_option("verified")
    page.locator("#review-note").fill("Geolocated; time consistent with shadows.")
    page.get_by_role("button", name="Submit review").click()
    page.wait_for_selector("h1 .status-verified")
    page.screenshot(path=ARTIFACTS / "07-verified.png", full_page=True)

    page.locator("#top-search").fill("courtyard")
    page.locator("#top-search").press("Enter")
    page.wait_for_selector(".hit a")
    assert page.locator(".hit", has_text="Shooting in a courtyard <demo>").count() == 1
    page.screenshot(path=ARTIFACTS / "08-search.png", full_page=True)

    page.goto(base + "/map")
    page.wait_for_selector("#map[data-points='1'] .leaflet-interactive")
    page.screenshot(path=ARTIFACTS / "09-map.png")
    page.goto(base + "/timeline")
    page.screenshot(path=ARTIFACTS / "10-timeline.png", full_page=True)
    assert errors == []
    assert elsewhere == []


def test_a_preserved_page_and_script_cannot_act_for_an_admin(
    server, browser, tmp_path: Path
) -> None:
    """The escalation replayed in Chromium: a preserved script that would add an admin."""
    base, store = server
    ws.make_user(store, "root", "admin")
    escalate = tmp_path / "esc.js"
    escalate.write_text(
        "window.escalated = true; fetch('/admin/users', {method: 'POST', body: "
        "new URLSearchParams({username: 'mallory', role: 'admin', csrf_token: "
        "document.querySelector('meta[name=csrf-token]').content})});"
    )
    script = ws.ingest(store, escalate)
    statement = tmp_path / "statement.html"
    statement.write_text(f'<h1>Statement</h1><script src="/assets/{script}/original"></script>')
    page_sha = ws.ingest(store, statement)
    video = ws.small_video(store, tmp_path)
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    _login(page, base, "root")

    with page.expect_download() as download:  # the page is a download, never a document
        page.evaluate(f"window.location.href = '/assets/{page_sha}/original'")
    assert download.value.suggested_filename == "statement.html"
    page.goto(f"{base}/assets/{page_sha}/text")
    assert "<script src=" in page.locator("pre.textview").inner_text()
    page.screenshot(path=ARTIFACTS / "11-text-view.png", full_page=True)
    # As if a page of the workbench itself were made to load the script (XSS):
    # served as opaque bytes with nosniff, the browser refuses to run it.
    outcome = page.evaluate(
        """src => new Promise(done => {
             const s = document.createElement('script');
             s.onload = () => done('ran'); s.onerror = () => done('refused');
             s.src = src; document.head.appendChild(s);
           })""",
        f"/assets/{script}/original",
    )
    assert outcome == "refused" and page.evaluate("window.escalated") is None
    time.sleep(0.5)
    with store.read() as session:
        assert find_user(session, "mallory") is None

    page.goto(f"{base}/assets/{video}")  # media still plays inline in the player
    ready = page.evaluate(
        """() => new Promise(done => {
             const v = document.querySelector('.player video');
             v.addEventListener('loadedmetadata', () => done(v.duration), {once: true});
             v.addEventListener('error', () => done(-1), {once: true});
             v.load();
           })"""
    )
    assert ready > 3
    context.close()
