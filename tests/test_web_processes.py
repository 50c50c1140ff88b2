"""`testament serve --workers 2` on PostgreSQL: two processes behind one port agree on
sessions, login lockouts, the admin's settings and upload jobs.

Which process answers a connection is the kernel's choice, so the test asks the kernel:
after a request it finds the server side of its connection in /proc/net/tcp and the
worker process holding that socket, then sends the next request on a connection that
the other process holds. Nothing in the app is changed for the test.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import pytest

from testament import config
from testament.store import init_store
from testament.web.auth import SESSION_COOKIE
from testament.web.security import CSRF_COOKIE
from tests import web_support as ws
from tests.conftest import _postgres_database
from tests.media import make_image

pytestmark = pytest.mark.postgres
STARTUP_SECONDS = 60
CONNECT_SECONDS = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children(pid: int) -> list[int]:
    """The worker processes of uvicorn's supervisor (not multiprocessing's resource tracker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in _read(task / "children").split():
            if "spawn_main" in _read(Path(f"/proc/{child}/cmdline")):
                found.append(int(child))
    return found


def _read(path: Path) -> str:
    """A /proc file's text, or nothing when its thread or process has just ended."""
    try:
        return path.read_bytes().decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def _socket_inode(server_port: int, client_port: int) -> str | None:
    """The inode of the server's end of the connection from `client_port`."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote, inode = fields[1], fields[2], fields[9]
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
            ):
                return inode
    return None


def _multipart(form: dict[str, str], files: list[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in form.items()
    ]
    for filename, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    text: str


class Served:
    """A running `serve --workers 2`, and requests sent to the worker of one's choice."""

    def __init__(self, process: subprocess.Popen[bytes], port: int) -> None:
        self.process, self.port = process, port
        self.workers: list[int] = []

    def owner(self, connection: http.client.HTTPConnection) -> int | None:
        assert connection.sock is not None
        inode = _socket_inode(self.port, connection.sock.getsockname()[1])
        for pid in self.workers:
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                try:
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
                except FileNotFoundError:
                    continue
        return None

    def connect_to(self, worker: int) -> http.client.HTTPConnection:
        """A kept-alive connection that `worker` has accepted and answered on.

        Whichever process is awake first accepts: on a loaded machine one can take every
        connection for a while, so this keeps trying, with a pause, until a deadline.
        """
        deadline, tries = time.monotonic() + CONNECT_SECONDS, 0
        while time.monotonic() < deadline:
            tries += 1
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            connection.request("GET", "/healthz")
            answer = connection.getresponse()
            answer.read()
            assert answer.status == 200
            if self.owner(connection) == worker:
                return connection
            connection.close()
            time.sleep(0.02 * min(tries, 10))
        raise AssertionError(f"no connection reached worker {worker} in {CONNECT_SECONDS} s")

    def send(
        self,
        worker: int,
        method: str,
        path: str,
        cookies: dict[str, str],
        form: dict[str, str] | None = None,
        files: list[tuple[str, bytes]] | None = None,
    ) -> Reply:
        """One request answered by `worker`; cookies it sets are added to `cookies`.

        `files` (name, bytes) go as the form's `files` field, in a multipart body.
        """
        connection = self.connect_to(worker)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        body: str | bytes | None = None
        if files is not None:
            body, headers["Content-Type"] = _multipart(form or {}, files)
        elif form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        reply = Reply(answer.status, answer.headers, answer.read().decode("utf-8", "replace"))
        for header in answer.headers.get_all("set-cookie") or []:
            name, value = header.split(";", 1)[0].split("=", 1)
            cookies[name] = value
        assert self.owner(connection) == worker  # still the same process
        connection.close()
        return reply

    def csrf(self, worker: int, cookies: dict[str, str]) -> str:
        if CSRF_COOKIE not in cookies:
            self.send(worker, "GET", "/login", cookies)
        return cookies[CSRF_COOKIE]

    def login(
        self, worker: int, cookies: dict[str, str], username: str, password: str = ws.PASSWORD
    ) -> Reply:
        token = self.csrf(worker, cookies)
        form = {"username": username, "password": password, "csrf_token": token}
        return self.send(worker, "POST", "/login", cookies, form)


def _wait_for_workers(served: Served) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"serve exited with {served.process.returncode}")
        served.workers = _children(served.process.pid)
        if len(served.workers) == 2:
            try:
                for worker in served.workers:
                    served.connect_to(worker).close()
                return
            except (OSError, http.client.HTTPException, AssertionError):
                pass
        time.sleep(0.2)
    raise AssertionError(f"two workers did not answer within {STARTUP_SECONDS} s")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Served, config.Settings]]:
    home = tmp_path_factory.mktemp("processes") / "home"
    for database_url in _postgres_database():
        settings = config.resolve(home=home, database_url=database_url, actor="tester")
        store, _ = init_store(settings)
        for name, role in (("amira", "investigator"), ("root", "admin"), ("target", "viewer")):
            ws.make_user(store, name, role)
        store.close()
        port = _free_port()
        env = {
            **os.environ,
            config.HOME_ENV: str(home),
            config.DATABASE_ENV: database_url,
            config.ACTOR_ENV: "tester",
        }
        command = [sys.executable, "-m", "testament", "serve", "--workers", "2"]
        process = subprocess.Popen(
            [*command, "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            web = Served(process, port)
            _wait_for_workers(web)
            yield web, settings
        finally:
            process.terminate()
            output = process.communicate(timeout=30)[0].decode("utf-8", "replace")
            assert "Traceback" not in output, output


def test_a_session_made_on_one_process_works_on_the_other(served) -> None:
    web, _ = served
    first, second = web.workers
    cookies: dict[str, str] = {}
    assert web.login(first, cookies, "amira").status == 303
    assert SESSION_COOKIE in cookies
    page = web.send(second, "GET", "/library", cookies)
    assert page.status == 200 and "amira" in page.text
    # Logging out on the second process ends the session on the first.
    token = cookies[CSRF_COOKIE]
    assert web.send(second, "POST", "/logout", cookies, {"csrf_token": token}).status == 303
    cookies.pop(SESSION_COOKIE, None)
    assert web.send(first, "GET", "/library", cookies).status == 303  # to the login page


def test_a_lockout_is_counted_across_both_processes(served) -> None:
    """Five wrong passwords, alternating between the processes, lock the name on both."""
    web, _ = served
    cookies: dict[str, str] = {}
    for attempt in range(5):
        worker = web.workers[attempt % 2]
        assert web.login(worker, cookies, "target", "wrong password").status == 401
    for worker in web.workers:
        refused = web.login(worker, cookies, "target")  # the right password, too late
        assert refused.status == 429
        assert "Too many failed attempts" in refused.text


def test_an_admin_setting_saved_on_one_is_served_by_the_other(served) -> None:
    """The tile URL (and with it the CSP's img-src) follows an admin's change everywhere."""
    web, _ = served
    first, second = web.workers
    cookies: dict[str, str] = {}
    assert web.login(first, cookies, "root").status == 303
    tiles = "https://tiles.example.org/{z}/{x}/{y}.png"
    form = {"tile_url": tiles, "csrf_token": cookies[CSRF_COOKIE]}
    assert web.send(first, "POST", "/admin/settings", cookies, form).status == 303
    deadline = time.monotonic() + 10
    while True:
        page = web.send(second, "GET", "/map", cookies)
        policy = page.headers["content-security-policy"]
        if "https://tiles.example.org" in policy:
            break
        assert time.monotonic() < deadline, f"the other process still serves {policy!r}"
        time.sleep(0.3)
    assert re.search(r"img-src 'self' data: https://tiles\.example\.org;", policy)


def test_an_upload_started_on_one_is_followed_on_the_other(served, tmp_path: Path) -> None:
    """The progress page reads the upload's row in the catalog, whichever process answers."""
    web, _ = served
    first, second = web.workers
    cookies: dict[str, str] = {}
    assert web.login(first, cookies, "amira").status == 303
    image = make_image(tmp_path / "photo.png", seed=7).read_bytes()
    form = {"csrf_token": cookies[CSRF_COOKIE]}
    started = web.send(first, "POST", "/upload", cookies, form, files=[("photo.png", image)])
    assert started.status == 303, started.text
    status_page = started.headers["location"]
    deadline = time.monotonic() + 60
    while True:
        fragment = web.send(second, "GET", status_page + "/progress", cookies)
        assert fragment.status == 200, fragment.text
        if "hx-get" not in fragment.text:  # it stops polling once the upload is done
            break
        assert time.monotonic() < deadline, fragment.text
        time.sleep(0.3)
    assert "Upload finished" in fragment.text and "1 of 1 preserved" in fragment.text
    assert hashlib.sha256(image).hexdigest()[:12] in fragment.text
    assert web.send(second, "GET", status_page, cookies).status == 200
