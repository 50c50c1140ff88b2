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
from testament.locker.blobstore import BlobStore, BlobStoreError, open_blob_store
from testament.locker.custody import LAST_APPENDED, CustodyLog
from testament.locker.keys import (
    Signer,
    SigningKeyError,
    check_belongs,
    create_keys,
    load_signer,
    passphrase_from_env,
    public_pem,
)

# The first migration whose catalog keeps the custody head (see `_upgrade`).
HEAD_REVISION = "0004"


class StoreError(Exception):
    """The store is missing, not initialised, or unreachable."""


@dataclass
class Store:
    settings: Settings
    engine: Engine
    blobs: BlobStore
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
    try:
        blobs = open_blob_store(settings.blob_url, settings.s3_endpoint)
    except BlobStoreError as exc:
        raise StoreError(str(exc)) from exc
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


def _signer(settings: Settings, passphrase: str | None, *, create: bool) -> Signer:
    """The store's private key; made at `init` unless one is already kept where it goes."""
    private, public = settings.signing_key_path, settings.public_key_path
    try:
        if create and not private.exists():
            return create_keys(private, public, passphrase)
        signer = load_signer(private, passphrase)
        if create:
            public.parent.mkdir(parents=True, exist_ok=True)
            public.write_text(public_pem(signer), encoding="ascii")
        check_belongs(signer, public, private)
    except SigningKeyError as exc:
        raise StoreError(str(exc)) from exc
    return signer


def _upgrade(store: Store) -> None:
    """Migrate the catalog; one that did not keep the custody head adopts its newest event."""
    before = database.current_revision(store.engine)
    database.upgrade(store.engine)
    if before is not None and before < HEAD_REVISION:
        with store.write() as session:
            store.custody.adopt_head(session)


def _reachable(settings: Settings, store: Store, *, always: bool) -> None:
    try:
        if always or not database.is_current(store.engine):
            _upgrade(store)
    except OperationalError as exc:
        raise StoreError(
            f"cannot reach the catalog at {settings.database_url}: {exc.orig}"
        ) from exc


def init_store(settings: Settings, passphrase: str | None = None) -> tuple[Store, bool]:
    """Create the store (idempotent); return it and whether anything was created.

    `passphrase` protects a new private key (default: `TESTAMENT_KEY_PASSPHRASE`).
    """
    settings.home.mkdir(parents=True, exist_ok=True)
    passphrase = passphrase or passphrase_from_env()
    created = not settings.public_key_path.exists()
    signer = _signer(settings, passphrase, create=created)
    store = _open(settings, signer)
    try:
        store.blobs.create()
    except BlobStoreError as exc:
        raise StoreError(str(exc)) from exc
    _reachable(settings, store, always=True)
    if created:
        store.record(
            "init",
            f"store:{signer.key_id}",
            {"software": f"testament {__version__}", "public_key": public_pem(signer)},
        )
    return store, created


def open_store(settings: Settings) -> Store:
    """Open an initialised store, bringing its schema up to date."""
    if not settings.public_key_path.exists():
        raise StoreError(f"no testament store at {settings.home} (run 'testament init')")
    store = _open(settings, _signer(settings, passphrase_from_env(), create=False))
    _reachable(settings, store, always=False)
    try:
        store.blobs.remove_abandoned_parts()
    except BlobStoreError as exc:
        raise StoreError(f"cannot reach the blob store: {exc}") from exc
    return store
