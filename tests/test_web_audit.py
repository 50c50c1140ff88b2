"""Safe viewing: previews are blurred and greyscale; originals and reveals are audited."""

from __future__ import annotations

import io
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
