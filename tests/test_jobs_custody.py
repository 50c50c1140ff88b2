"""One linear custody chain with many writers: processes on two "machines" (store folders
with their own custody.head copy) ingesting into one PostgreSQL catalog at once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testament import config
from testament.locker.custody import read_catalog_head, read_head
from testament.store import init_store, open_store
from tests.conftest import _postgres_database
from tests.media import make_image

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _postgres_database()


def test_concurrent_writers_on_two_machines_keep_one_chain(
    postgres_url: str, tmp_path: Path
) -> None:
    first, second = tmp_path / "machine-a", tmp_path / "machine-b"
    blobs = f"file://{tmp_path / 'shared-blobs'}"
    settings = config.resolve(home=first, database_url=postgres_url, blob_url=blobs)
    init_store(settings)[0].close()
    shutil.copytree(first / "keys", second / "keys")  # the store's key, on the other machine
    writers = []
    for n, home in enumerate([first, first, second, second]):
        folder = tmp_path / f"batch{n}"
        folder.mkdir()
        for i in range(6):
            make_image(folder / f"{n}-{i}.png", seed=100 * n + i, width=96, height=64)
        env = os.environ | {
            config.HOME_ENV: str(home),
            config.DATABASE_ENV: postgres_url,
            config.BLOBS_ENV: blobs,
            config.ACTOR_ENV: f"writer{n}",
        }
        writers.append(
            subprocess.Popen(
                [sys.executable, "-m", "testament", "ingest", str(folder)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
        )
    outputs = [w.communicate(timeout=600)[0].decode() for w in writers]
    assert [w.returncode for w in writers] == [0] * 4, outputs
    for home in (first, second):
        store = open_store(config.resolve(home=home, database_url=postgres_url, blob_url=blobs))
        try:
            with store.read() as session:
                catalog_head = read_catalog_head(session)
            on_file = read_head(home / "custody.head")
            assert catalog_head is not None and on_file is not None
            assert 0 < on_file.seq <= catalog_head.seq  # a per-machine copy: may lag, never lead
        finally:
            store.close()
        done = subprocess.run(
            [sys.executable, "-m", "testament", "verify"],
            env=os.environ
            | {
                config.HOME_ENV: str(home),
                config.DATABASE_ENV: postgres_url,
                config.BLOBS_ENV: blobs,
            },
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "24 originals" in done.stdout and ": intact" in done.stdout
