"""Page capture in real Chromium against a local HTTPS server the test starts.

The pages are the test's own; the certificate chain is a CA and a leaf the test makes, so
the chain kept must be exactly those two certificates.
"""

from __future__ import annotations

import gzip
import json
import socket
import time
import zipfile
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from PIL import Image
from sqlalchemy import select, text
from warcio.archiveiterator import ArchiveIterator

from testament import config
from testament.catalog.models import Asset, Capture, CustodyEvent
from testament.collect.ingest import Ingest
from testament.collect.items import Item, Sighting
from testament.locker.verify import verify_store
from testament.store import Store, init_store
from testament.watch.page_browser import CHROMIUM_ENV, chromium_path
from testament.watch.page_capture import BrowserUnavailable, capture_post_page, capture_post_pages
from testament.watch.page_records import PageCapture
from tests.https_pages import PAGE_HEIGHT, STYLE, TEST_HEADER, _Pages, https_pages
from tests.media import make_image
from tests.system import need


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    try:
        chromium_path()
    except BrowserUnavailable as exc:
        need(False, str(exc))
    with https_pages(tmp_path_factory.mktemp("tls")) as served:
        yield served


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened, _ = init_store(config.resolve(home=tmp_path / "home", actor="tester"))
    yield opened
    opened.close()


def _blob(store: Store, sha256: str) -> bytes:
    path = store.blobs.local_path(sha256)
    assert path is not None
    return path.read_bytes()


def _warc_records(wacz: bytes) -> tuple[list[str], dict[str, object]]:
    """The WACZ's file names and its WARC's response records by URL."""
    with zipfile.ZipFile(BytesIO(wacz)) as archive:
        names = archive.namelist()
        warcs = [n for n in names if n.startswith("archive/")]
        assert len(warcs) == 1
        responses: dict[str, object] = {}
        for record in ArchiveIterator(BytesIO(archive.read(warcs[0]))):
            if record.rec_type == "response":
                body = record.content_stream().read()
                responses[record.rec_headers.get_header("WARC-Target-URI")] = (record, body)
    return names, responses


def test_a_posts_page_is_preserved_with_its_archive_chain_and_headers(
    pages, store: Store, tmp_path: Path
) -> None:
    base, chain = pages
    url = f"{base}/s/channel/5"
    photo = make_image(tmp_path / "photo.jpg")
    seen = Sighting(method="telegram", platform="telegram", url=url, post_id="5")
    Ingest(store, steps=[]).run([Item("photo", seen, path=photo)])
    with store.read() as session:
        capture_id = session.execute(select(Capture.id)).scalar_one()

    result = capture_post_page(store, capture_id)

    assert result.ok, result.error
    assert result.capture_id == capture_id and result.status_code == 200
    assert result.title == "Channel post 5"
    assert set(result.parts) == {"screenshot", "archive", "certificates", "headers"}

    with store.read() as session:
        row = session.execute(select(PageCapture)).scalar_one()
        assets = {a.id: a for a in session.execute(select(Asset)).scalars()}
        events = session.execute(select(CustodyEvent).order_by(CustodyEvent.seq)).scalars().all()
    assert row.capture_id == capture_id and row.final_url == url
    shot = assets[row.screenshot_asset_id]
    assert shot.media_type == "image" and shot.mime_type == "image/png"
    assert assets[row.archive_asset_id].sha256 == result.parts["archive"]

    # Its blurred preview is made with it, in custody as the one who captured it.
    previews = [e for e in events if e.action == "derived"]
    assert [e.subject for e in previews] == [f"asset:{result.parts['screenshot']}"]
    assert previews[0].actor == "tester"

    # The screenshot is the whole page, not the viewport.
    with Image.open(BytesIO(_blob(store, result.parts["screenshot"]))) as image:
        assert image.format == "PNG"
        assert image.width == 1280
        assert image.height == row.details["page_height"] >= PAGE_HEIGHT

    # The web archive validates and holds the page as the server sent it.
    wacz_path = tmp_path / "page.wacz"
    wacz_path.write_bytes(_blob(store, result.parts["archive"]))
    from wacz.main import main as wacz_main

    assert wacz_main(["validate", "-f", str(wacz_path)]) == 0
    names, responses = _warc_records(wacz_path.read_bytes())
    assert {"datapackage.json", "indexes/index.cdx.gz", "pages/pages.jsonl"} <= set(names)
    record, body = responses[url]
    assert record.http_headers.get_statuscode() == "200"
    assert record.http_headers.get_header(TEST_HEADER[0]) == TEST_HEADER[1]
    assert b"shelling reported near the bridge" in body
    # A gzip-encoded stylesheet is kept decoded, with the encoding it travelled in noted.
    style, style_body = responses[f"{base}/static/style.css"]
    assert style_body == STYLE and style_body != gzip.compress(STYLE)
    assert style.http_headers.get_header("X-Archive-Orig-Content-Encoding") == "gzip"
    assert f"{base}/static/photo.png" in responses

    # The chain is the test's leaf and CA, in the order the server sent them.
    kept = x509.load_pem_x509_certificates(_blob(store, result.parts["certificates"]))
    assert kept == [chain.leaf, chain.ca]

    headers = json.loads(_blob(store, result.parts["headers"]))
    assert headers["final_url"] == url
    (response,) = headers["responses"]
    assert response["status"] == 200
    assert {"name": TEST_HEADER[0], "value": TEST_HEADER[1]} in response["headers"]

    # Custody: each part stored and probed, and one event tying them to the capture.
    for sha256 in result.parts.values():
        actions = {e.action for e in events if e.subject == f"asset:{sha256}"}
        assert {"stored", "probed"} <= actions
    (tied,) = [e for e in events if e.action == "page_captured"]
    details = json.loads(tied.details)
    assert tied.subject == f"capture:{capture_id}" and details["url"] == url
    assert {details[f"{kind}_sha256"] for kind in result.parts} == set(result.parts.values())

    report = verify_store(store)
    assert report.intact, report.problems
    assert not report.warnings

    # The page capture is held to its signed event like every record.
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE page_captures SET final_url = 'https://elsewhere.example/'")
        )
    assert verify_store(store).problems == [
        f"page capture {row.id}: final_url in the catalog differs from its signed "
        f"'page_captured' event (#{tied.seq})"
    ]
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM page_captures"))
    assert verify_store(store).problems == [
        f"page capture {row.id}: in its signed 'page_captured' event (#{tied.seq}) but missing "
        "from the catalog"
    ]


def test_pages_found_by_hand_redirects_and_failures(pages, store: Store) -> None:
    base, _chain = pages
    moved, gone = f"{base}/moved", f"{base}/no-such-post"
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/"
    hostile = f"{base}/hostile"
    started = time.monotonic()
    results = capture_post_pages(
        store, [moved, gone, "ftp://example.org/x", 999, closed, hostile], rate=50
    )
    # A page that never goes quiet is captured as it stands, after a bounded wait.
    assert time.monotonic() - started < 30
    by_target = {r.target: r for r in results}

    # A redirect is followed; each hop's headers are kept.
    assert by_target[moved].ok and by_target[moved].title == "Channel post 7"
    hops = json.loads(_blob(store, by_target[moved].parts["headers"]))["responses"]
    assert [h["status"] for h in hops] == [302, 200]
    assert hops[1]["url"] == f"{base}/s/channel/7"
    # A page that answers 404 is still captured: its absence is evidence too.
    assert by_target[gone].ok and by_target[gone].status_code == 404
    assert (
        by_target["ftp://example.org/x"].error
        == "'ftp://example.org/x' is not an http or https address"
    )
    assert by_target["capture 999"].error == "no capture 999"
    refused = by_target[closed].error or ""
    assert refused.startswith(f"cannot capture {closed}: ") and "\n" not in refused
    assert "ERR_CONNECTION_REFUSED" in refused
    # Its title, set by script with half a surrogate pair (Chromium makes the NUL a
    # space), is kept as text the catalog can hold: PostgreSQL refuses the half pair.
    assert by_target[hostile].ok and by_target[hostile].title == "Hostile post?"
    assert "ERR_CONNECTION_REFUSED" in refused
    # Its title, set by script with half a surrogate pair (Chromium makes the NUL a
    # space), is kept as text the catalog can hold: PostgreSQL refuses the half pair.
    assert by_target[hostile].ok and by_target[hostile].title == "Hostile post?"

    with store.read() as session:
        captures = session.execute(select(Capture).order_by(Capture.id)).scalars().all()
    # Each page found by hand is a capture of its own, with no media.
    assert sorted((c.method, c.url, c.asset_id) for c in captures) == [
        ("page", hostile, None),
        ("page", moved, None),
        ("page", gone, None),
    ]
    again = capture_post_page(store, moved, rate=50)
    assert again.capture_id == by_target[moved].capture_id
    assert again.page_capture_id != by_target[moved].page_capture_id
    assert verify_store(store).intact


def test_a_tab_serving_post_after_post_carries_nothing_from_one_to_the_next(
    pages, sqlite_store: Store
) -> None:
    """One tab (one page at a time) visits the same page three times: each visit finds no
    cookie, storage or window name the earlier left, and fetches the cacheable stylesheet
    from the server again."""
    base, _chain = pages
    url = f"{base}/memory"
    fetched = _Pages.hits["/static/cached.css"]
    results = capture_post_pages(sqlite_store, [url, url, url], concurrency=1, rate=1000)
    # The cookie its own response set, and nothing else.
    blank = {"cookie": "served=1", "local": None, "session": None, "name": ""}
    assert [json.loads(r.title or "") for r in results] == [blank, blank, blank]
    assert _Pages.hits["/static/cached.css"] - fetched == 3
    for result in results:
        (hop,) = json.loads(_blob(sqlite_store, result.parts["headers"]))["responses"]
        assert "cookie" not in {h["name"].lower() for h in hop["request_headers"]}
        _names, responses = _warc_records(_blob(sqlite_store, result.parts["archive"]))
        assert f"{base}/static/cached.css" in responses


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_capture_page_command(pages, cli, monkeypatch: pytest.MonkeyPatch) -> None:
    base, _chain = pages
    url = f"{base}/s/channel/3"
    assert cli("init").exit_code == 0
    done = cli("capture-page", url)
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == f"captured {url} (HTTP 200) as page capture 1 of capture 1"
    assert [line.split()[0] for line in lines[1:]] == [
        "screenshot",
        "web",
        "certificate",
        "response",
    ]
    shown = json.loads(cli("capture-page", "--capture", "1", "--json").output)
    assert shown["page_capture_id"] == 2 and shown["title"] == "Channel post 3"

    assert cli("capture-page", "--capture", "7").exit_code == 1
    monkeypatch.setenv(CHROMIUM_ENV, "/nonexistent/chromium")
    missing = cli("capture-page", url)
    assert missing.exit_code == 2
    assert missing.output.strip() == (
        f"error: capturing pages needs headless Chromium: {CHROMIUM_ENV}=/nonexistent/chromium "
        f"does not exist; install it with 'apt-get install chromium' or set {CHROMIUM_ENV}"
    )


def test_the_page_capture_step_is_a_worker_task_and_runs_once(
    pages, sqlite_store: Store, tmp_path: Path
) -> None:
    from testament.jobs import registry
    from testament.watch.page_capture import PageCaptures

    base, _chain = pages
    step = PageCaptures(sqlite_store)
    task = registry.for_step(step)
    assert task is not None and (task.name, task.queue) == ("page_capture", "capture")

    photo = make_image(tmp_path / "still.jpg", seed=4)
    seen = Sighting(method="url", url=f"{base}/s/channel/9")
    Ingest(sqlite_store, steps=[step]).run([Item("still", seen, path=photo)])
    Ingest(sqlite_store, steps=[step]).run([Item("again", seen, path=photo)])  # nothing new
    with sqlite_store.read() as session:
        rows = session.execute(select(PageCapture)).scalars().all()
    assert [(r.url, r.title) for r in rows] == [(f"{base}/s/channel/9", "Channel post 9")]


def test_an_alert_without_media_links_its_posts_page_archive(pages, sqlite_store: Store) -> None:
    from testament.accounts import users
    from testament.investigate.fields import IncidentFields
    from testament.investigate.incidents import create
    from testament.investigate.models import IncidentAsset
    from testament.watch.inbox import link_to_incident
    from testament.watch.models import Alert
    from tests.watch_site import Media, Site, serving
    from tests.watch_support import watch_once

    with serving(Site()) as site:
        site.channel("frontline").post("too big", [Media("video", "huge.mp4", None)])
        watch_once(sqlite_store, f"{site.base}/s/frontline")
        with sqlite_store.read() as session:
            alert = session.execute(select(Alert)).scalar_one()
        captured = capture_post_page(sqlite_store, alert.capture_id, rate=50)
    assert alert.kind == "media_missing" and captured.ok, captured.error
    with sqlite_store.write() as session:
        user, _ = users.add_user(session, "ana", "investigator")
        incident = create(session, user, IncidentFields(title="Bridge"))
        session.flush()
        ids = (incident.id, user.id)
    linked = link_to_incident(sqlite_store, alert.id, *ids)
    assert linked == captured.parts["archive"]
    with sqlite_store.read() as session:
        (link,) = session.execute(select(IncidentAsset)).scalars().all()
        assert session.get(Asset, link.asset_id).sha256 == captured.parts["archive"]
