"""Uploading through the browser form runs the real ingest, attributed to the user."""

from __future__ import annotations

import time
from pathlib import Path

from testament.catalog.models import Asset, Capture, CustodyEvent
from tests import web_support as ws
from tests.media import make_image


def test_upload_files_with_progress(store, tmp_path: Path) -> None:
    ws.make_user(store, "ana", "investigator")
    ws.make_user(store, "vic", "viewer")
    browser = ws.client(store)
    token = ws.login(browser, "ana")
    image = make_image(tmp_path / "photo.png", seed=4).read_bytes()
    empty = browser.post("/upload", data={"csrf_token": token})
    assert empty.status_code == 400 and "Choose at least one file" in empty.text
    bad_url = browser.post("/upload", data={"csrf_token": token, "urls": "not a url"})
    assert bad_url.status_code == 400 and "Not a web address" in bad_url.text
    response = browser.post(
        "/upload",
        data={"csrf_token": token},
        files=[("files", ("../../etc/<b>photo</b>.png", image, "image/png"))],
    )
    assert response.status_code == 303
    status_page = response.headers["location"]
    for _ in range(100):
        fragment = browser.get(status_page + "/progress").text
        if "finished" in fragment:
            break
        time.sleep(0.1)
    assert "finished" in fragment and "preserved" in fragment
    other = ws.client(store)
    ws.login(other, "vic")
    assert other.get(status_page).status_code == 403
    with store.read() as session:
        capture = session.query(Capture).one()
        assert (capture.method, capture.filename) == ("upload", "../../etc/<b>photo</b>.png")
        asset = session.query(Asset).one()
        assert store.blobs.open(asset.sha256).read() == image
        actors = {e.actor for e in session.query(CustodyEvent).filter_by(action="collected")}
        assert actors == {"web:ana"}
