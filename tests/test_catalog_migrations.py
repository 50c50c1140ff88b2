"""The schema check at store open: it agrees with Alembic, and it does not load Alembic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import text

from testament import config
from testament.catalog import database
from testament.store import Store


def test_the_head_is_alembics_and_each_revision_is_named_by_its_file() -> None:
    scripts = ScriptDirectory(str(database.MIGRATIONS))
    assert database.head_revision() == scripts.get_current_head()
    for script in scripts.walk_revisions():
        assert Path(script.path).name.startswith(f"{script.revision}_")


def test_a_catalog_is_current_only_at_the_head(store: Store) -> None:
    assert database.current_revision(store.engine) == database.head_revision()
    assert database.is_current(store.engine)
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert database.current_revision(store.engine) == "0001"
    assert not database.is_current(store.engine)


def test_an_empty_database_is_at_no_revision(tmp_path: Path) -> None:
    engine = database.make_engine(f"sqlite:///{tmp_path / 'empty.sqlite'}")
    try:
        assert database.current_revision(engine) is None
        assert not database.is_current(engine)
    finally:
        engine.dispose()


def test_opening_a_current_store_does_not_load_alembic(store: Store) -> None:
    probe = (
        "import sys\n"
        "from testament import config\n"
        "from testament.store import open_store\n"
        f"open_store(config.resolve(home={str(store.settings.home)!r}, "
        f"database_url={store.settings.database_url!r})).close()\n"
        "print('alembic' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, config.ACTOR_ENV: "tester"},
    )
    assert done.stdout.strip() == "False"
