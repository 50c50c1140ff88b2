"""Uploading through the browser form runs the real ingest, attributed to the user."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from testament.catalog.models import Asset, Capture, CustodyEvent
from testament.jobs.models import UploadRecord
from testament.web.download_errors import plain_failure
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


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _finished_fragment(browser, status_page: str) -> str:
    for _ in range(300):
        fragment = browser.get(status_page + "/progress").text
        if "hx-get" not in fragment:  # the fragment stops polling once the job is done
            return fragment
        time.sleep(0.1)
    raise AssertionError(f"the upload did not finish: {fragment}")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://footage.invalid/watch?v=1", "could not reach footage.invalid: name not found"),
        (
            "http://127.0.0.1:{port}/clip.mp4",
            "could not reach 127.0.0.1: the connection was refused",
        ),
    ],
)
def test_a_failed_download_is_shown_as_failed_in_plain_words(store, url: str, reason: str) -> None:
    ws.make_user(store, "ana", "investigator")
    browser = ws.client(store)
    token = ws.login(browser, "ana")
    url = url.format(port=_closed_port())
    response = browser.post("/upload", data={"csrf_token": token, "urls": url})
    assert response.status_code == 303
    fragment = _finished_fragment(browser, response.headers["location"])
    assert "Upload failed" in fragment and "0 of 1 preserved" in fragment
    assert "<progress" not in fragment and "finished" not in fragment
    assert f"download failed: {reason}" in fragment
    assert 'class="failed"' in fragment and "Not preserved:" in fragment
    assert "TransportError" not in fragment and "Errno" not in fragment
    assert "Upload of 1 item" in browser.get(response.headers["location"]).text


def test_yt_dlp_messages_in_plain_words() -> None:
    url = "https://example.org/v"
    said = {
        "HTTP Error 404: Not Found": "example.org has no such page (HTTP 404 Not Found)",
        "HTTP Error 502: Bad Gateway": "example.org answered with an error (HTTP 502 Bad Gateway)",
        "Temporary failure in name resolution": "could not reach example.org: no name lookup "
        "(is this machine offline?)",
        "[generic] v: Unable to extract title (caused by X('y'))": "Unable to extract title",
    }
    for raw, plain in said.items():
        assert plain_failure(url, f"download failed: {url}: {raw}") == f"download failed: {plain}"
    assert plain_failure(url, "the file is empty") == "the file is empty"


class _SlowClip(BaseHTTPRequestHandler):
    """Answers after a second, so an upload of its URL is still running when asked to stop."""

    def do_GET(self) -> None:
        time.sleep(1)
        self.send_error(404)

    def log_message(self, *args: object) -> None:
        return


def test_shutting_down_waits_for_running_uploads(store) -> None:
    ws.make_user(store, "ana", "investigator")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowClip)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with ws.client(store) as browser:
            token = ws.login(browser, "ana")
            url = f"http://127.0.0.1:{server.server_port}/clip.mp4"
            response = browser.post("/upload", data={"csrf_token": token, "urls": url})
            assert response.status_code == 303
            assert browser.app.state.jobs.running() == 1
        assert browser.app.state.jobs.running() == 0
        with store.read() as session:
            record = session.query(UploadRecord).one()
            assert record.done and record.results[0]["outcome"] == "failed"
    finally:
        server.shutdown()
        server.server_close()
