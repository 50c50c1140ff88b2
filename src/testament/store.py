"""One evidence store: its blob store, catalog, signing key and custody log, opened together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from testament import __version__
from testament.catalog import database
from testament.config import Settings
from testament.locker.blobstore import LocalBlobStore, open_blob_store
from testament.locker.custody import LAST_APPENDED, CustodyLog
from testament.locker.keys import Signer, create_keys, load_signer, public_pem


class StoreError(Exception):
    """The store is missing, not initialised, or unreachable."""


@dataclass
class Store:
    settings: Settings
    engine: Engine
    blobs: LocalBlobStore
    signer: Signer
    custody: CustodyLog
    _reader: sessionmaker[Session]
    _writer: sessionmaker[Session]

    @property
    def actor(self) -> str:
        return self.settings.actor

    def read(self) -> Session:
        """A session for looking things up."""
        return self._reader()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that may append custody events; commits on success."""
        with self._writer() as session:
            with session.begin():
                database.write_lock(session)
                yield session
            appended = session.info.pop(LAST_APPENDED, None)
        if appended is not None:
            self.custody.write_head(*appended)

    def record(self, action: str, subject: str, details: dict[str, Any]) -> None:
        """A custody event on its own, for actions that change nothing else."""
        with self.write() as session:
            self.custody.append(session, action, subject, details)

    def close(self) -> None:
        self.engine.dispose()


def _open(settings: Settings, signer: Signer) -> Store:
    engine = database.make_engine(settings.database_url)
    blobs = open_blob_store(settings.blob_url)
    custody = CustodyLog(signer, settings.actor, settings.custody_head_path)
    return Store(
        settings,
        engine,
        blobs,
        signer,
        custody,
        database.session_factory(engine),
        database.session_factory(engine, writer=True),
    )


def init_store(settings: Settings) -> tuple[Store, bool]:
    """Create the store (idempotent); return it and whether anything was created."""
    settings.home.mkdir(parents=True, exist_ok=True)
    created = not (settings.keys_dir / "signing-key.pem").exists()
    signer = create_keys(settings.keys_dir) if created else load_signer(settings.keys_dir)
    store = _open(settings, signer)
    store.blobs.create()
    try:
        database.upgrade(store.engine)
    except OperationalError as exc:
        raise StoreError(
            f"cannot reach the catalog at {settings.database_url}: {exc.orig}"
        ) from exc
    if created:
        store.record(
            "init",
            f"store:{signer.key_id}",
            {"software": f"testament {__version__}", "public_key": public_pem(signer)},
        )
    return store, created


def open_store(settings: Settings) -> Store:
    """Open an initialised store, bringing its schema up to date."""
    if not (settings.keys_dir / "signing-key.pem").exists():
        raise StoreError(f"no testament store at {settings.home} (run 'testament init')")
    store = _open(settings, load_signer(settings.keys_dir))
    try:
        if not database.is_current(store.engine):
            database.upgrade(store.engine)
    except OperationalError as exc:
        raise StoreError(
            f"cannot reach the catalog at {settings.database_url}: {exc.orig}"
        ) from exc
    store.blobs.remove_abandoned_parts()
    return store
