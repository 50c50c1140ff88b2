"""A team deployment for the worker tests: PostgreSQL, a broker, a store, a worker process."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from testament import config
from testament.catalog.models import Asset, CustodyEvent, Derivative, FingerprintRecord
from testament.jobs.models import TaskRecord
from testament.store import Store, open_store
from tests.system import need

REDIS = ("127.0.0.1", 6379)
RABBITMQ = ("127.0.0.1", 5672)


def reachable(address: tuple[str, int]) -> bool:
    import socket

    try:
        with socket.create_connection(address, timeout=2):
            return True
    except OSError:
        return False


def broker_url(kind: str) -> Iterator[str]:
    """A broker of its own for one test module: a Redis database, or a RabbitMQ vhost."""
    if kind == "redis":
        need(reachable(REDIS), "Redis is not running at 127.0.0.1:6379: apt-get install redis")
        yield f"redis://127.0.0.1:6379/{random.randint(1, 15)}"
        return
    need(
        reachable(RABBITMQ),
        "RabbitMQ is not running at 127.0.0.1:5672: apt-get install rabbitmq-server",
    )
    vhost = f"testament-{uuid.uuid4().hex[:12]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        ["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )
    try:
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], capture_output=True)


@dataclass
class Deployment:
    """`testament` commands and one worker process against one store, as a team runs them."""

    home: Path
    database_url: str
    queue_url: str
    log: Path
    worker: subprocess.Popen[bytes] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def env(self) -> dict[str, str]:
        return (
            os.environ
            | {
                config.HOME_ENV: str(self.home),
                config.DATABASE_ENV: self.database_url,
                config.QUEUE_ENV: self.queue_url,
                config.ACTOR_ENV: "tester",
                # Short, so that Redis hands a killed worker's task on within the test.
                config.QUEUE_VISIBILITY_ENV: "4",
                config.QUEUE_RETRY_ENV: "0.5",
                "PYTHONUNBUFFERED": "1",
            }
            | self.extra_env
        )

    def testament(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "testament", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"testament {' '.join(args)}: {done.stdout}\n{done.stderr}")
        return done

    def popen(self, *args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "testament", *args],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def start_worker(self, concurrency: int = 2) -> None:
        assert self.worker is None
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.worker = subprocess.Popen(
                [sys.executable, "-m", "testament", "worker", "--concurrency", str(concurrency)],
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill -9 reaches the pool too
            )
        deadline = time.monotonic() + 120
        while b" ready." not in self.log.read_bytes()[offset:]:
            if self.worker.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.2)

    def kill_worker(self) -> None:
        """kill -9 of the worker and every process of its pool."""
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()
        self.worker = None

    def stop_worker(self) -> None:
        if self.worker is None:
            return
        os.killpg(self.worker.pid, signal.SIGTERM)
        try:
            self.worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait()
        self.worker = None

    def store(self) -> Store:
        return open_store(config.resolve(home=self.home, database_url=self.database_url))

    def jobs(self) -> dict[str, Any]:
        return json.loads(self.testament("jobs", "--json", "--limit", "10000").stdout)

    def wait_until(
        self, condition: Any, what: str, timeout: float = 120, every: float = 0.2
    ) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"timed out waiting for {what}:\n{self.log.read_text()[-3000:]}"
                )
            time.sleep(every)


def jobs_of(store: Store, sha256s: list[str]) -> list[TaskRecord]:
    subjects = [f"asset:{s}" for s in sha256s]
    with store.read() as session:
        query = select(TaskRecord).where(TaskRecord.subject.in_(subjects)).order_by(TaskRecord.id)
        return list(session.execute(query).scalars())


def results_recorded_once(store: Store, sha256s: list[str]) -> None:
    """Each asset once, its fingerprint once, its previews once, each with one event."""
    with store.read() as session:
        for sha256 in sha256s:
            asset = session.execute(select(Asset).where(Asset.sha256 == sha256)).scalar_one()
            prints = session.execute(
                select(func.count()).where(FingerprintRecord.asset_id == asset.id)
            ).scalar_one()
            thumbs = session.execute(
                select(func.count()).where(
                    Derivative.asset_id == asset.id, Derivative.kind == "thumbnail"
                )
            ).scalar_one()
            events = dict(
                session.execute(
                    select(CustodyEvent.action, func.count())
                    .where(CustodyEvent.subject == f"asset:{sha256}")
                    .group_by(CustodyEvent.action)
                ).all()
            )
            assert (prints, thumbs) == (1, 1), sha256
            assert events["stored"] == events["probed"] == events["fingerprinted"] == 1, events
            assert (
                events["derived"]
                == session.execute(
                    select(func.count()).where(Derivative.asset_id == asset.id)
                ).scalar_one()
            )
