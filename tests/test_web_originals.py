"""Serving preserved bytes: nothing in an original runs in the workbench, and every byte is audited.

The attack these tests replay: an investigator preserves `esc.js` (which would create an
admin account) and `statement.html` (`<script src="/assets/<esc.js>/original">`); an
admin opens the page's original and runs the script with their own session.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testament.accounts import audit, users
from testament.catalog.models import Asset, CustodyEvent
from testament.collect.ingest import Ingest
from testament.collect.items import Item, Sighting
from tests import web_support as ws
from tests.media import make_image

ESCALATE = (
    "fetch('/admin/users', {method: 'POST', body: new URLSearchParams("
    "{username: 'mallory', role: 'admin', csrf_token: "
    "document.querySelector('meta[name=csrf-token]').content})});"
)


def _preserve(store, folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text)
    return ws.ingest(store, path)


def _admin(store):
    ws.make_user(store, "root", "admin")
    browser = ws.client(store)
    ws.login(browser, "root")
    return browser


def _sandboxed(response) -> None:
    assert response.headers["x-content-type-options"] == "nosniff"
    csp = response.headers["content-security-policy"]
    assert csp.startswith("sandbox;") and "default-src 'none'" in csp
    assert "script-src" not in csp


def _is_download(response) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-disposition"].startswith("attachment")
    _sandboxed(response)


def test_a_preserved_page_and_script_are_only_downloads(store, tmp_path: Path) -> None:
    script = _preserve(store, tmp_path, "esc.js", ESCALATE)
    page = _preserve(
        store, tmp_path, "statement.html", f'<script src="/assets/{script}/original"></script>'
    )
    svg = _preserve(
        store,
        tmp_path,
        "map.svg",
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    )
    browser = _admin(store)
    for sha256 in (script, page, svg):
        _is_download(browser.get(f"/assets/{sha256}/original"))
    with store.write() as session:
        token = users.issue_token(session, users.find_user(session, "root"), "t")
    api = browser.get(f"/api/assets/{page}/original", headers={"Authorization": f"Bearer {token}"})
    _is_download(api)
    assert api.content.startswith(b"<script")  # the bytes themselves are unchanged


def test_a_page_named_as_video_is_a_download(store, tmp_path: Path) -> None:
    """The probe decides the type from the bytes: the name `clip.mp4` earns nothing."""
    disguised = _preserve(store, tmp_path, "clip.mp4", "<html><script>alert(1)</script>")
    browser = _admin(store)
    _is_download(browser.get(f"/assets/{disguised}/original"))
    assert "<video" not in browser.get(f"/assets/{disguised}").text


def test_media_is_shown_inline_but_sandboxed(store, tmp_path: Path) -> None:
    video = ws.small_video(store, tmp_path)
    still = ws.ingest(store, make_image(tmp_path / "photo.jpg", seed=2))
    browser = _admin(store)
    for sha256, mime in ((video, "video/mp4"), (still, "image/jpeg")):
        response = browser.get(f"/assets/{sha256}/original")
        assert response.headers["content-type"] == mime
        assert response.headers["content-disposition"].startswith("inline")
        _sandboxed(response)
        download = browser.get(f"/assets/{sha256}/original?download=true")
        _is_download(download)
    for url in (f"/assets/{video}/thumbnail", f"/assets/{video}/thumbnail?clear=1"):
        preview = browser.get(url)
        assert preview.headers["content-type"] == "image/jpeg"
        _sandboxed(preview)


def test_the_text_view_shows_a_page_inert(store, tmp_path: Path) -> None:
    page = _preserve(store, tmp_path, "statement.html", "<script>alert('x')</script> & more")
    video = ws.small_video(store, tmp_path)
    browser = _admin(store)
    asset_page = browser.get(f"/assets/{page}").text
    assert f'href="/assets/{page}/text"' in asset_page
    shown = browser.get(f"/assets/{page}/text")
    assert shown.status_code == 200
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in shown.text
    assert "<script>alert" not in shown.text
    assert "script-src 'self'" in shown.headers["content-security-policy"]
    binary = browser.get(f"/assets/{video}/text")
    assert "not text" in binary.text
    with store.read() as session:
        rows = [(e.action, e.subject, e.details) for e in audit.entries(session)]
    assert rows == [("view_original", f"asset:{page}", {"shown_as": "text"})]


RANGES = ["bytes=-999999999", "bytes=1-", "bytes=0-", "bytes=0-0,5-9", "bytes=10-20"]


@pytest.mark.parametrize("url", ["/assets/{}/original", "/api/assets/{}/original"])
def test_every_request_that_sends_bytes_is_audited_once(store, tmp_path: Path, url: str) -> None:
    video = ws.small_video(store, tmp_path)
    browser = _admin(store)
    url = url.format(video)
    for byte_range in RANGES:
        response = browser.get(url, headers={"Range": byte_range})
        assert response.status_code == 206, byte_range
    assert browser.get(url).status_code == 200
    refused = browser.get(url, headers={"Range": "bytes=999999999-"})
    assert refused.status_code == 416
    assert browser.head(url).status_code == 405  # no bytes, and no row
    with store.read() as session:
        rows = list(reversed(audit.entries(session)))
    assert [(e.details or {}).get("range") for e in rows] == [*RANGES, None]
    assert {e.subject for e in rows} == {f"asset:{video}"}
    page = browser.get("/admin/audit").text
    assert ">6</td>" in page  # the six requests of one sitting, shown as one line


def test_assets_are_named_by_unique_prefixes(store, tmp_path: Path) -> None:
    video = ws.small_video(store, tmp_path)
    browser = _admin(store)
    with store.write() as session:
        token = users.issue_token(session, users.find_user(session, "root"), "t")
    api = {"Authorization": f"Bearer {token}"}
    assert browser.get(f"/assets/{video[:6]}").status_code == 200
    assert browser.get(f"/api/assets/{video[:6]}", headers=api).json()["sha256"] == video
    assert browser.get(f"/assets/{video[:8]}/original").status_code == 200
    with store.write() as session:
        real = session.query(Asset).filter_by(sha256=video).one()
        twin = video[:6] + ("0" if video[6] != "0" else "1") + video[7:]
        session.add(Asset(sha256=twin, md5=real.md5, sha512=real.sha512, size=1, stored_by="x"))
    ambiguous = browser.get(f"/api/assets/{video[:6]}", headers=api)
    assert ambiguous.status_code == 409 and "More than one asset" in ambiguous.text
    assert browser.get(f"/assets/{video[:6]}").status_code == 409
    assert browser.get(f"/assets/{video[:7]}").status_code == 200
    assert browser.get("/assets/zz-not-hex").status_code == 400
    absent = ("0" if video[0] != "0" else "1") * 64
    assert browser.get(f"/api/assets/{absent}", headers=api).status_code == 404


def test_previews_made_in_the_workbench_name_the_person(store, tmp_path: Path) -> None:
    """Previews made on first view (the fallback for an asset ingested without its
    previews step, as when a worker has not reached it yet) are that person's doing."""
    path = make_image(tmp_path / "photo.png", seed=6)
    seen = Sighting(method="telegram", filename=path.name)
    result = Ingest(store, steps=[]).run([Item(path.name, seen, path=path)])
    sha256 = result.results[0].sha256
    ws.make_user(store, "vic", "viewer")
    browser = ws.client(store)
    ws.login(browser, "vic")
    assert browser.get(f"/assets/{sha256}").status_code == 200
    with store.read() as session:
        actors = {e.actor for e in session.query(CustodyEvent).filter_by(action="derived")}
    assert actors == {"web:vic"}
