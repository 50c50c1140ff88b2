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

    force, unit = _actors(store)
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
    page.locator("#attr-0-actor_id").select_option(str(force))
    page.locator("#attr-0-confidence").select_option("unverified")
    assert page.locator("#attr-1-actor_id").count() == 0
    page.get_by_role("button", name="Add another attribution").click()
    page.locator("#attr-1-actor_id").select_option(str(unit))
    page.locator("#attr-1-role").select_option("present")
    page.locator("#attr-1-confidence").select_option("probable")
    page.locator("#attr-1-basis").select_option("uniform")
    page.locator("#attr-1-asset").fill(sha256[:12])
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
    saved = page.locator("dt:text-is('Attributed to') + dd > div").all_inner_texts()
    assert saved == [
        "Armed forces, Party named in the footage — direct perpetrator, unverified, proposed",
        "Checkpoint unit, Second party <b>seen</b> — present, probable, proposed (basis: uniform)",
        "units and people, bases, accountability",
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


# Every page a person can reach; at a phone's width none may scroll sideways.
NARROW = 390
NARROW_PAGES = (
    "/library",
    "/library?view=table",
    "/incidents",
    "/incidents/{incident}",
    "/incidents/{incident}/edit",
    "/incidents/new",
    "/assets/{sha256}",
    "/upload",
    "/match",
    "/map",
    "/timeline",
    "/search?q=courtyard",
    "/account",
    "/docs",
    "/admin",
    "/admin/audit",
)


def _actors(store: Store) -> tuple[int, int]:
    """A force and a unit of another party, to attribute incidents to."""
    from testament.actors import actors

    with store.write() as session:
        force = actors.create(
            session, "ana", kind="force", name="Armed forces", party="Party named in the footage"
        )
        unit = actors.create(
            session, "ana", kind="unit", name="Checkpoint unit", party="Second party <b>seen</b>"
        )
        return force.id, unit.id


def _incident(store: Store, sha256: str) -> int:
    from testament.accounts.models import User
    from testament.actors.attributions import AttributionIn, propose
    from testament.catalog.models import Asset
    from testament.investigate.fields import IncidentFields, VictimFields
    from testament.investigate.incidents import create, link_asset

    fields = IncidentFields(
        title="Shooting in a courtyard",
        violations=["torture"],
        location_name="Village square",
        victims=[VictimFields(count=2, status="civilian")],
    )
    force, unit = _actors(store)
    with store.write() as session:
        author = session.query(User).filter_by(username="ana").one()
        incident = create(session, author, fields)
        link_asset(session, author, incident, session.query(Asset).filter_by(sha256=sha256).one())
        for actor, confidence in ((force, "unverified"), (unit, "probable")):
            given = AttributionIn(incident.id, actor, "unit responsible", confidence)
            propose(session, author, given)
        return incident.id


def _derived(store: Store) -> int:
    from testament.catalog.models import CustodyEvent

    with store.read() as session:
        return session.query(CustodyEvent).filter_by(action="derived").count()


def test_previews_audit_docs_edit_form_and_narrow_screens(server, browser, tmp_path: Path) -> None:
    base, store = server
    ws.make_user(store, "ana", "investigator")
    ws.make_user(store, "adm", "admin")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    video = make_video(tmp_path / "courtyard.mp4", seconds=6, width=640, height=360, seed=7)
    sha256 = ws.ingest(store, video, platform="telegram", channel="Demo channel")
    incident = _incident(store, sha256)
    made_at_ingest = _derived(store)
    assert made_at_ingest == 7  # a thumbnail and six keyframes, before anyone asked
    errors: list[str] = []
    elsewhere: list[str] = []
    refused: list[str] = []  # by the browser, for the CSP, before any byte is sent

    def csp(failure: str | None) -> bool:
        return failure in ("csp", "net::ERR_BLOCKED_BY_CSP")  # Chromium's words for it

    def watched(context) -> object:
        page = context.new_page()
        page.on(
            "console",
            lambda m: errors.append(f"{page.url}: {m.text}") if m.type == "error" else None,
        )
        page.on("request", lambda r: None if r.url.startswith(base) else elsewhere.append(r.url))
        page.on("requestfailed", lambda r: refused.append(r.url) if csp(r.failure) else None)
        return page

    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = watched(context)
    _login(page, base, "ana")
    # The library's first view shows pictures, made at ingest, not blank tiles.
    page.goto(base + "/library")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.tile img')].every(i => i.complete && i.naturalWidth)"
    )
    assert page.locator(".tile img").count() == 1 and _derived(store) == made_at_ingest
    page.screenshot(path=ARTIFACTS / "20-library-first-view.png", full_page=True)

    # Every keyframe of the strip in view, the last one whole.
    page.goto(f"{base}/assets/{sha256}")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.strip img')].every(i => i.naturalWidth > 0)"
    )
    cut = page.evaluate(
        """() => { const strip = document.querySelector('.strip').getBoundingClientRect();
             return [...document.querySelectorAll('.strip button')].filter(b => {
               const r = b.getBoundingClientRect();
               return r.left < strip.left - 1 || r.right > strip.right + 1 || r.width < 40;
             }).length; }"""
    )
    assert page.locator(".strip button").count() == 6 and cut == 0
    # One reveal of the player: the audit log shows it as one line, in words, naming the file.
    page.locator("[data-reveal-player]").first.click()
    page.locator("#confirm-reveal").click()
    page.wait_for_function(
        """() => [...document.querySelectorAll('.strip img')]
                   .every(i => i.src.includes('clear=1') && i.complete)"""
    )
    page.screenshot(path=ARTIFACTS / "21-asset-revealed.png", full_page=True)

    # The edit form lists the attributions made, one blank row to add another, and the
    # incident's own victim rows with no blank one.
    page.goto(f"{base}/incidents/{incident}/edit")
    made = page.get_by_role("list", name="Attributions made").locator("li").all_inner_texts()
    assert made == [
        "Armed forces — unit responsible, unverified, proposed",
        "Checkpoint unit — unit responsible, probable, proposed",
    ]
    assert page.locator("#attr-rows > .repeat-row").count() == 1
    assert page.locator("#attr-0-actor_id").input_value() == ""
    counts = page.locator("#victim-rows > .repeat-row input[name$='-count']")
    assert counts.evaluate_all("inputs => inputs.map(i => i.value)") == ["2"]
    page.screenshot(path=ARTIFACTS / "22-incident-edit.png", full_page=True)

    # The API documentation, bundled: Swagger UI and ReDoc, nothing from another server.
    page.goto(base + "/docs")
    page.wait_for_selector(".swagger-ui .opblock-summary-path")
    assert page.locator(".opblock").count() >= 15
    page.locator(".opblock-summary-path", has_text="/api/me").first.click()
    page.get_by_role("button", name="Try it out").click()
    page.get_by_role("button", name="Execute").click()
    page.wait_for_selector(".responses-table .response-col_status:text-is('200')")
    assert (
        '"username": "ana"' in page.locator(".live-responses-table .microlight").first.inner_text()
    )
    page.screenshot(path=ARTIFACTS / "23-api-docs.png", full_page=True)
    page.goto(base + "/redoc")
    page.get_by_role("heading", name=re.compile("testament workbench API")).wait_for()
    page.get_by_role("heading", name="List Assets").wait_for()
    page.screenshot(path=ARTIFACTS / "24-api-redoc.png")
    context.close()

    admin = browser.new_context(viewport={"width": 1360, "height": 900})
    page = watched(admin)
    _login(page, base, "adm")
    page.goto(base + "/admin/audit")
    rows = page.locator("table.audit tbody tr, table.audit tr:has(td)")
    reveal = page.locator("table.audit tr", has=page.locator("td:text-is('reveal')"))
    assert reveal.count() == 1, rows.all_inner_texts()
    text = reveal.inner_text()
    assert "revealed: the player, 6 clear keyframes" in text and "{" not in text
    assert reveal.get_by_role("link", name="courtyard.mp4").get_attribute("href") == (
        f"/assets/{sha256}"
    )
    page.screenshot(path=ARTIFACTS / "25-audit.png", full_page=True)
    admin.close()

    # At a phone's width nothing on any page scrolls sideways.
    for username in ("adm",):
        phone = browser.new_context(viewport={"width": NARROW, "height": 844})
        page = watched(phone)
        _login(page, base, username)
        wide = {}
        for path in NARROW_PAGES:
            page.goto(base + path.format(incident=incident, sha256=sha256))
            page.wait_for_load_state("networkidle")
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > NARROW:
                wide[path] = width
            name = re.sub(r"[^a-z0-9]+", "-", path.format(incident="n", sha256="sha")).strip("-")
            page.screenshot(path=ARTIFACTS / f"30-narrow-{name}.png", full_page=True)
        assert wide == {}
        phone.close()
    # ReDoc's own logo, which it would fetch from its CDN, and a stylesheet it writes before
    # it is given the page's nonce, are refused by the CSP: nothing else goes wrong, and no
    # request leaves for another server.
    assert [e for e in errors if "Content Security Policy" not in e or "/redoc" not in e] == []
    assert elsewhere == refused == ["https://cdn.redoc.ly/redoc/logo-mini.svg"]
