"""The hash index on disk, kept in step with the catalog's fingerprint rows.

The catalog is the source of truth; the index folder is a cache of it that records the
last fingerprint row it holds. Fingerprint rows are written under the store's write
lock, so their ids follow commit order and catching up by id misses nothing. A file lock
keeps two processes from writing the folder at once.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.catalog.models import FingerprintRecord
from testament.fingerprint import Fingerprint, HashIndex
from testament.footage.packing import unpack

STATE = "state.json"
CURRENT = "current"


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_state(folder: Path) -> int | None:
    try:
        return int(json.loads((folder / STATE).read_text())["last_fingerprint_id"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return None


def _rows_after(session: Session, last_id: int) -> Iterator[FingerprintRecord]:
    query = (
        select(FingerprintRecord)
        .where(FingerprintRecord.id > last_id, FingerprintRecord.frame_count > 0)
        .order_by(FingerprintRecord.id)
        .execution_options(yield_per=500)
    )
    yield from session.execute(query).scalars()


def _save(folder: Path, index: HashIndex, last_id: int) -> None:
    """Write a new copy beside the old one, then switch, so a crash leaves one intact."""
    staging = folder / f"staging-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    index.save(staging)
    (staging / STATE).write_text(json.dumps({"last_fingerprint_id": last_id}))
    old = folder / f"old-{os.getpid()}"
    current = folder / CURRENT
    if current.exists():
        current.rename(old)
    staging.rename(current)
    shutil.rmtree(old, ignore_errors=True)


def _catch_up(session: Session, index: HashIndex, last_id: int) -> int:
    for record in _rows_after(session, last_id):
        index.add(record.asset_id, unpack(record.data))
        last_id = record.id
    return last_id


def added_since(session: Session, last_id: int) -> HashIndex:
    """The fingerprints committed after row `last_id`, in a small index of their own."""
    index = HashIndex()
    _catch_up(session, index, last_id)
    return index


class LiveIndex:
    """One process's view of the index: loaded once, caught up before each use, saved once."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._index: HashIndex | None = None
        self._last_id = 0

    def current(self, session: Session) -> HashIndex:
        """The index with every fingerprint committed so far, by this process or another."""
        if self._index is None:
            self._index, self._last_id = self._load()
        self._last_id = _catch_up(session, self._index, self._last_id)
        return self._index

    def extend(self, record_id: int, asset_id: int, fingerprint: Fingerprint) -> None:
        """Index a fingerprint just recorded under the write lock (row `record_id`), so the
        next asset of a batch is matched against it without a round trip to the catalog."""
        if self._index is None:
            return
        self._index.add(asset_id, fingerprint)
        self._last_id = max(self._last_id, record_id)

    def forget(self) -> None:
        """Drop the in-memory index (its transaction rolled back): reloaded when next used."""
        self._index, self._last_id = None, 0

    @property
    def last_id(self) -> int:
        """The last fingerprint row the index holds: later ones were committed since."""
        return self._last_id

    def _load(self) -> tuple[HashIndex, int]:
        current = self.folder / CURRENT
        with _locked(self.folder):
            saved = _read_state(current)
            if saved is None:
                return HashIndex(), 0
            try:
                return HashIndex.load(current), saved
            except (OSError, ValueError, KeyError, RuntimeError):
                return HashIndex(), 0  # an unreadable cache is rebuilt from the catalog

    def save(self) -> None:
        """Write the index back unless the folder already holds one at least as new."""
        if self._index is None:
            return
        with _locked(self.folder):
            saved = _read_state(self.folder / CURRENT)
            if saved is None or saved < self._last_id:
                _save(self.folder, self._index, self._last_id)

    def rebuild(self, session: Session) -> HashIndex:
        """A fresh index from every fingerprint in the catalog, saved."""
        last_id = 0

        def pairs() -> Iterator[tuple[int, Fingerprint]]:
            nonlocal last_id
            for record in _rows_after(session, 0):
                last_id = record.id
                yield record.asset_id, unpack(record.data)

        self._index = HashIndex.build(pairs())  # trained once for the final size
        self._last_id = last_id
        with _locked(self.folder):
            _save(self.folder, self._index, self._last_id)
        return self._index
