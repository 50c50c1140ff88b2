"""Safe viewing: previews are blurred and greyscale; originals and reveals are audited."""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
from PIL import Image

from testament.accounts import audit
from testament.catalog.models import Asset, CustodyEvent, Derivative
from tests import web_support as ws


def _image(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(float)


def test_previews_are_blurred_and_grey_until_revealed(store, tmp_path: Path) -> None:
    ws.make_user(store, "amira", "viewer")
    sha256 = ws.small_video(store, tmp_path)
    browser = ws.client(store)
    ws.login(browser, "amira")
    blurred = _image(browser.get(f"/assets/{sha256}/thumbnail").content)
    assert np.abs(blurred[..., 0] - blurred[..., 1]).max() < 3  # greyscale
    with store.read() as session:
        assert audit.entries(session) == []
    clear = _image(browser.get(f"/assets/{sha256}/thumbnail?clear=1").content)
    assert np.abs(clear[..., 0] - clear[..., 1]).max() > 30  # colour
    detail = lambda a: np.abs(np.diff(a.mean(axis=2), axis=1)).mean()  # noqa: E731
    assert detail(blurred) < detail(clear) / 2
    with store.read() as session:
        entries = audit.entries(session)
        assert [(e.username, e.action, e.subject) for e in entries] == [
            ("amira", "reveal", f"asset:{sha256}")
        ]
        asset = session.query(Asset).filter_by(sha256=sha256).one()
        kinds = sorted(d.kind for d in session.query(Derivative).filter_by(asset_id=asset.id))
        assert kinds == ["keyframe"] * 6 + ["thumbnail"]
        derived = session.query(CustodyEvent).filter_by(action="derived").count()
        assert derived == 7
    assert store.blobs.current_sha256(sha256) == sha256  # original untouched


def test_original_views_downloads_and_player_reveals_are_audited(store, tmp_path: Path) -> None:
    ws.make_user(store, "amira", "viewer")
    sha256 = ws.small_video(store, tmp_path)
    browser = ws.client(store)
    token = ws.login(browser, "amira")
    page = browser.get(f"/assets/{sha256}").text
    assert 'class="protected"' in page and "muted" in page
    original = browser.get(f"/assets/{sha256}/original")
    assert original.content == (tmp_path / "clip.mp4").read_bytes()
    partial = browser.get(f"/assets/{sha256}/original", headers={"Range": "bytes=100-"})
    assert partial.status_code == 206
    download = browser.get(f"/assets/{sha256}/original?download=true")
    assert "attachment" in download.headers["content-disposition"]
    assert browser.post(f"/assets/{sha256}/reveal", headers={"X-CSRF-Token": token}).is_success
    with store.read() as session:
        actions = [e.action for e in reversed(audit.entries(session))]
    # The range request sent bytes too, so it is a row of its own.
    assert actions == ["view_original", "view_original", "download_original", "reveal"]
    audit_page = ws.client(store)
    ws.make_user(store, "root", "admin")
    ws.login(audit_page, "root")
    assert audit_page.get("/admin/audit").text.count("amira") == 3  # the two views as one


def test_one_reveal_is_one_readable_line_naming_the_file(store, tmp_path: Path) -> None:
    """A player reveal fetches the clear previews while the player still fetches ranges of
    the original: the rows interleave, and the log still shows one line for each act."""
    ws.make_user(store, "amira", "viewer")
    sha256 = ws.small_video(store, tmp_path)
    browser = ws.client(store)
    token = ws.login(browser, "amira")
    with store.read() as session:
        asset = session.query(Asset).filter_by(sha256=sha256).one()
        previews = [
            (d.id, d.sha256) for d in session.query(Derivative).filter_by(asset_id=asset.id)
        ]
    assert browser.get(f"/assets/{sha256}/original").is_success
    assert browser.post(f"/assets/{sha256}/reveal", headers={"X-CSRF-Token": token}).is_success
    for n, (derivative_id, _) in enumerate(previews):
        assert browser.get(f"/assets/{sha256}/previews/{derivative_id}?clear=1").is_success
        ranged = {"Range": f"bytes={(n + 1) * 100}-"}
        assert browser.get(f"/assets/{sha256}/original", headers=ranged).status_code == 206
    admin = ws.client(store)
    ws.make_user(store, "root", "admin")
    ws.login(admin, "root")
    page = admin.get("/admin/audit").text
    rows = re.findall(r"<tr><td>.*?</tr>", page, re.S)
    assert len(rows) == 2
    reveal, view = sorted(rows, key=lambda row: "view original" in row)
    assert ">reveal<" in reveal and "<td>8</td>" in reveal
    assert "revealed: the player, clear thumbnail, 6 clear keyframes" in reveal
    assert "view original" in view and "<td>8</td>" in view
    assert "sent: the whole file; from byte 100; from byte 200; and 5 more" in view
    for row in rows:  # the subject is the file, linked; no stored field names or dicts
        assert f'<a href="/assets/{sha256}">clip.mp4</a>' in row
        assert "{" not in row and "derivative" not in row and "range" not in row
    assert not any(sha in page for _, sha in previews)


def test_details_read_as_words() -> None:
    assert audit.describe("view_original", [{"range": "bytes=0-99,-50"}, None]) == [
        "sent: bytes 0–99, the last 50 bytes; the whole file"
    ]
    assert audit.describe("view_original", [{"shown_as": "text"}]) == [
        "sent: the whole file",
        "shown as: text",
    ]
    assert audit.describe("download_original", [None, None]) == ["sent: the whole file"]
    assert audit.describe("reveal", [{"derivative": "ab" * 32, "kind": "thumbnail"}]) == [
        "revealed: clear thumbnail"
    ]
