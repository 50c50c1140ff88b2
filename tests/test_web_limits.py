"""Request bodies: not read before the sender is known and allowed, and never past their cap.

The attack: an anonymous POST of a huge body to /upload was parsed, and spooled to disk in
full, before the CSRF check refused it. These tests drive the application through ASGI
directly, so that they can count how much of a body the server pulled.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from fastapi.testclient import TestClient

from testament.web.app import create_app
from testament.web.auth import SESSION_COOKIE
from testament.web.security import CSRF_COOKIE
from testament.web.settings import MAX_UPLOAD_ENV, SettingError, max_upload_bytes
from tests import web_support as ws

MIB = 1 << 20
BOUNDARY = "testament-boundary"


def send(app, path: str, chunks: list[bytes], headers: dict[str, str]) -> tuple[int, int]:
    """POST `chunks` to `path`; returns the status and how many body bytes were read."""
    consumed = 0
    pending = list(chunks)
    answer: dict[str, int] = {}

    async def receive():
        nonlocal consumed
        if not pending:
            await asyncio.sleep(3600)  # a client still sending; the server must not wait on it
        chunk = pending.pop(0)
        consumed += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": bool(pending)}

    async def reply(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, reply), timeout=30))
    return answer["status"], consumed


def multipart(size: int, chunk: int = MIB) -> list[bytes]:
    head = (
        f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=files; filename=big.bin\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return [head] + [b"x" * chunk for _ in range(size // chunk)]


FORM = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}


def test_strangers_are_answered_before_their_body_is_read(store) -> None:
    app = create_app(store, tile_url="")
    for path, expected in (
        ("/upload", 303),
        ("/match", 303),
        ("/incidents", 303),
        ("/api/match", 401),
        ("/api/incidents", 401),
    ):
        size = 512 * 1024  # within every cap: refused for who sent it, not for its size
        headers = FORM | {"content-length": str(size), "x-csrf-token": "t"}
        status, consumed = send(app, path, multipart(size, chunk=64 * 1024), headers)
        assert (status, consumed) == (expected, 0), path
        huge = FORM | {"content-length": str(64 << 30), "x-csrf-token": "t"}
        assert send(app, path, multipart(64 * MIB), huge) == (413, 0), path


def test_a_viewer_cannot_make_the_server_read_an_upload(store) -> None:
    ws.make_user(store, "vic", "viewer")
    browser = ws.client(store)
    token = ws.login(browser, "vic")
    cookie = f"{SESSION_COOKIE}={browser.cookies[SESSION_COOKIE]}; {CSRF_COOKIE}={token}"
    headers = FORM | {"content-length": str(8 * MIB), "cookie": cookie}
    status, consumed = send(browser.app, "/upload", multipart(8 * MIB), headers)
    assert (status, consumed) == (403, 0)
    assert "The viewer role does not allow this." in browser.get("/upload").text


def _investigator(app) -> tuple[TestClient, dict[str, str]]:
    browser = TestClient(app, follow_redirects=False)
    token = ws.login(browser, "ana")
    cookie = f"{SESSION_COOKIE}={browser.cookies[SESSION_COOKIE]}; {CSRF_COOKIE}={token}"
    return browser, {"cookie": cookie, "x-csrf-token": token}


def test_bodies_over_their_cap_get_413_unread(store) -> None:
    ws.make_user(store, "ana", "investigator")
    app = create_app(store, tile_url="", max_upload_bytes=2 * MIB)
    browser, auth = _investigator(app)
    declared = FORM | auth | {"content-length": str(4 * MIB)}
    assert send(app, "/upload", multipart(4 * MIB), declared) == (413, 0)
    chunked = FORM | auth  # no length given: read until the cap is passed, then refused
    status, consumed = send(app, "/upload", multipart(4 * MIB, chunk=4096), chunked)
    assert status == 413 and consumed <= 2 * MIB + 4096
    within = os.urandom(3 * MIB // 2)  # over the 1 MiB of other forms, under the upload cap
    csrf = {"x-csrf-token": auth["x-csrf-token"]}
    with browser:  # leaving it shuts the app down, which waits for the upload
        upload = browser.post(
            "/upload", files=[("files", ("noise.bin", within, "x/y"))], headers=csrf
        )
    assert upload.status_code == 303
    form = browser.post("/incidents", data={"title": "x" * (2 * MIB)}, headers=csrf)
    assert form.status_code == 413 and "Content Too Large" in form.text
    api = browser.post("/api/incidents", json={"title": "x" * (2 * MIB)}, headers=csrf)
    assert api.status_code == 413


def test_the_upload_cap_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(MAX_UPLOAD_ENV, raising=False)
    assert max_upload_bytes() == 4 << 30
    assert max_upload_bytes(5000) == 5000
    monkeypatch.setenv(MAX_UPLOAD_ENV, "123456")
    assert max_upload_bytes() == 123456
    monkeypatch.setenv(MAX_UPLOAD_ENV, "4G")
    with pytest.raises(SettingError, match="whole number of bytes, not '4G'"):
        max_upload_bytes()
