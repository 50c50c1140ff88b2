"""Shared fixtures: a fresh store per test on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from testament import config
from testament.store import Store, init_store
from tests.services import seaweedfs  # noqa: F401 (the SeaweedFS server fixture)
from tests.system import need

POSTGRES_ADMIN_URL = os.environ.get(
    "TESTAMENT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _postgres_database() -> Iterator[str]:
    import psycopg

    name = f"testament_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        need(
            False,
            f"PostgreSQL unreachable at {POSTGRES_ADMIN_URL} ({exc}); "
            "install and start it: apt-get install postgresql",
        )
        raise
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
        try:
            yield f"{base}/{name}"
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The catalog URL for one test: SQLite in the test's folder, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'home' / 'catalog.sqlite'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> config.Settings:
    return config.resolve(home=tmp_path / "home", database_url=database_url, actor="tester")


@pytest.fixture
def store(settings: config.Settings) -> Iterator[Store]:
    opened, _ = init_store(settings)
    yield opened
    opened.close()


@pytest.fixture
def cli(settings: config.Settings, monkeypatch: pytest.MonkeyPatch):
    """Run `testament ...` in-process against the test's store; returns the Result."""
    monkeypatch.setenv(config.HOME_ENV, str(settings.home))
    monkeypatch.setenv(config.DATABASE_ENV, settings.database_url)
    monkeypatch.setenv(config.ACTOR_ENV, settings.actor)
    from testament.cli.main import app

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run
