"""Connecting to the catalog and keeping its schema current.

SQLite (WAL, with a generous busy timeout so that concurrent ingests wait rather than
fail) is the embedded default; PostgreSQL serves teams. Both are migrated by Alembic.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "alembic_version"  # Alembic's default, which migrations/env.py keeps
SQLITE_BUSY_TIMEOUT_MS = 120_000
WRITER_OPTION = "testament_writer"


class CatalogError(Exception):
    """The catalog database could not be opened or is not at the expected schema."""


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the driver, open transactions, so that `BEGIN IMMEDIATE`
    # can take the write lock before anything is read.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _begin_sqlite(connection: Any) -> None:
    # Writers take the write lock up front: a deferred transaction that reads first
    # and writes later fails at once if another writer committed in between.
    mode = "IMMEDIATE" if connection.get_execution_options().get(WRITER_OPTION) else "DEFERRED"
    connection.exec_driver_sql(f"BEGIN {mode}")


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _configure_sqlite)
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    from alembic import command

    command.upgrade(_alembic_config(engine), "head")


def head_revision() -> str:
    """The newest migration, without loading Alembic (which would slow every command's start).

    Revision ids are the zero-padded numbers that begin the migration files' names, so the
    greatest is the head; tests/test_catalog_migrations.py holds Alembic's view to this.
    """
    return max(path.name.split("_", 1)[0] for path in (MIGRATIONS / "versions").glob("*_*.py"))


def current_revision(engine: Engine) -> str | None:
    """The migration the catalog is at; None for an empty database. One query, no Alembic."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        query = text(f"SELECT version_num FROM {VERSION_TABLE}")
        return connection.execute(query).scalar_one_or_none()


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


def session_factory(engine: Engine, *, writer: bool = False) -> sessionmaker[Session]:
    """Sessions for reading, or for writing (which wait for the write lock up front)."""
    bind = engine.execution_options(**{WRITER_OPTION: True}) if writer else engine
    return sessionmaker(bind, expire_on_commit=False)


def write_lock(session: Session) -> None:
    """Serialise writers that must see each other's results (assets, the custody chain).

    A writer session on SQLite already holds the write lock (`BEGIN IMMEDIATE`); PostgreSQL
    takes a transaction-scoped advisory lock, released at commit or rollback.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(7401)"))
