"""Real ingest processes killed at many points, and two ingests on one store at once."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from testament import config
from testament.catalog.models import Asset, Capture, FootageLink
from testament.demo import write_video
from testament.locker.verify import verify_store
from testament.store import Store, init_store, open_store

SIZES = [(320, 180), (288, 162), (256, 144), (352, 198), (240, 136), (384, 216)]

pytestmark = pytest.mark.slow


def _sources(folder: Path) -> dict[str, str]:
    """A mix of sizes: many small files and a few large ones, so kills land mid-write."""
    folder.mkdir()
    expected = {}
    sizes = [40 * 1024 * 1024, 3 * 1024 * 1024, 25 * 1024 * 1024] + [20_000 + i for i in range(30)]
    for i, size in enumerate(sizes):
        data = os.urandom(size)
        path = folder / f"item{i:03}.bin"
        path.write_bytes(data)
        expected[hashlib.sha256(data).hexdigest()] = path.name
    return expected


def _ingest_process(settings: config.Settings, *targets: Path) -> subprocess.Popen[bytes]:
    env = os.environ | {
        config.HOME_ENV: str(settings.home),
        config.DATABASE_ENV: settings.database_url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "testament", "ingest", *map(str, targets)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _assert_consistent(store: Store) -> None:
    """No partial blob is visible, every record names a present blob, the chain holds."""
    for sha in store.blobs.iter_sha256():
        assert store.blobs.current_sha256(sha) == sha, f"partial or corrupt blob {sha}"
    report = verify_store(store)
    assert report.intact, report.problems


def _full_run_seconds(tmp_path: Path, source: Path) -> float:
    """How long an uninterrupted ingest of `source` takes, on a scratch store."""
    scratch = config.resolve(home=tmp_path / "scratch", database_url=None, actor="tester")
    init_store(scratch)[0].close()
    started = time.monotonic()
    _ingest_process(scratch, source).communicate(timeout=300)
    return time.monotonic() - started


def test_sigkill_at_any_moment_loses_nothing(
    settings: config.Settings, store: Store, tmp_path: Path
) -> None:
    expected = _sources(tmp_path / "src")
    duration = _full_run_seconds(tmp_path, tmp_path / "src")
    kills = 0
    for fraction in (0.05, 0.15, 0.3, 0.45, 0.6, 0.75, 0.9):
        process = _ingest_process(settings, tmp_path / "src")
        time.sleep(duration * fraction)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait(timeout=60)
        reopened = open_store(settings)
        try:
            _assert_consistent(reopened)
        finally:
            reopened.close()
    assert kills >= 3, "ingest finished too fast to be interrupted; use larger files"
    final = _ingest_process(settings, tmp_path / "src")
    _out, err = final.communicate(timeout=300)
    assert final.returncode == 0, err.decode()
    reopened = open_store(settings)
    try:
        _assert_consistent(reopened)
        with reopened.read() as session:
            shas = set(session.execute(select(Asset.sha256)).scalars())
            captures = session.execute(select(func.count()).select_from(Capture)).scalar_one()
            unprobed = session.execute(
                select(func.count()).select_from(Asset).where(Asset.probed_at.is_(None))
            ).scalar_one()
        assert shas == set(expected)
        assert captures == len(expected)
        assert unprobed == 0
        assert verify_store(reopened).warnings == []
        assert list(reopened.blobs.tmp.iterdir()) == []
    finally:
        reopened.close()


def test_two_ingests_at_once_both_succeed(
    settings: config.Settings, store: Store, tmp_path: Path
) -> None:
    first = _sources(tmp_path / "src")
    second_folder = tmp_path / "other"
    second_folder.mkdir()
    second = {}
    for i in range(30):
        data = os.urandom(30_000 + i)
        (second_folder / f"other{i}.bin").write_bytes(data)
        second[hashlib.sha256(data).hexdigest()] = f"other{i}.bin"
    a = _ingest_process(settings, tmp_path / "src", second_folder)
    b = _ingest_process(settings, second_folder, tmp_path / "src")
    for process in (a, b):
        _out, err = process.communicate(timeout=600)
        assert process.returncode == 0, err.decode()
    _assert_consistent(store)
    with store.read() as session:
        shas = set(session.execute(select(Asset.sha256)).scalars())
        captures = session.execute(select(func.count()).select_from(Capture)).scalar_one()
    assert shas == set(first) | set(second)
    assert captures == len(first) + len(second)


def _copies(folder: Path, crf: int) -> Path:
    """Six re-encodings of one scene, each at its own size."""
    folder.mkdir()
    for width, height in SIZES:
        write_video(
            folder / f"copy-{width}-{crf}.mp4",
            seed=7,
            seconds=3,
            width=width,
            height=height,
            crf=crf,
        )
    return folder


def test_two_ingests_of_one_footage_link_every_pair(
    settings: config.Settings, store: Store, tmp_path: Path
) -> None:
    """Each process matches against an index without the other's latest copy; no pair is lost."""
    first = _copies(tmp_path / "first", crf=23)
    second = _copies(tmp_path / "second", crf=32)
    processes = [_ingest_process(settings, first), _ingest_process(settings, second)]
    for process in processes:
        _out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err.decode()
    with store.read() as session:
        ids = set(session.execute(select(Asset.id)).scalars())
        pairs = session.execute(select(FootageLink.asset_a_id, FootageLink.asset_b_id)).all()
    linked = {frozenset(pair) for pair in pairs}
    missing = {frozenset((a, b)) for a in ids for b in ids if a < b} - linked
    assert len(ids) == 2 * len(SIZES)
    assert len(pairs) == len(linked), "a pair is linked twice"
    assert not missing, f"{len(missing)} of {len(ids) * (len(ids) - 1) // 2} pairs unlinked"
