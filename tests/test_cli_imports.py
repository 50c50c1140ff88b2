"""The command line starts quickly: help and a still query load only what they use.

Not a timing test (benchmarks/cli_startup.py measures the time); it guards the import
structure, which one eager import at the top of a command module would undo.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testament.store import Store
from tests.media import make_image

HEAVY = (
    "numpy",
    "av",
    "cv2",
    "faiss",
    "PIL",
    "matplotlib",
    "fastapi",
    "yt_dlp",
    "sqlalchemy",
    "alembic",
    "pydantic",
    "boto3",
    "celery",
    "playwright",
    "lingua",
    "tesserocr",
)

# Runs in a fresh interpreter: builds the app, runs it with the arguments given, and
# reports which of the `heavy` modules were loaded along the way.
PROBE = """
import json, sys
from contextlib import redirect_stdout
from io import StringIO

from testament.cli.main import app

with redirect_stdout(StringIO()):
    try:
        app(sys.argv[1:])
    except SystemExit:
        pass
heavy = {heavy!r}
print(json.dumps(sorted({{name.split(".")[0] for name in sys.modules}} & set(heavy))))
print(json.dumps(sorted(name for name in sys.modules if name.startswith("testament.cli."))))
"""


@pytest.mark.parametrize(
    "arguments",
    [[], ["--help"], ["match", "--help"], ["export", "--help"], ["user", "--help"]],
    ids=lambda arguments: " ".join(arguments) or "no arguments",
)
def test_help_loads_no_heavy_library(arguments: list[str]) -> None:
    loaded = _loaded(HEAVY, arguments)
    assert loaded == [], f"`testament {' '.join(arguments)}` loaded {', '.join(loaded)}"


def test_a_still_query_loads_no_pyav_alembic_or_rich(store: Store, tmp_path: Path) -> None:
    still = make_image(tmp_path / "still.jpg")
    where = ["--home", str(store.settings.home), "--database-url", store.settings.database_url]
    arguments = ["match", str(still), "--json", *where]
    unused = ("av", "alembic", "rich", "matplotlib", "fastapi", "yt_dlp", "pydantic")
    assert _loaded(unused, arguments) == []
    assert set(_command_modules(arguments)) <= {*OWN, "testament.cli.footage"}


# What the top-level group itself is made of; every other module holds commands.
OWN = {"testament.cli.main", "testament.cli.lazy", "testament.cli.plain_values"}
OWN |= {"testament.cli.common"}


@pytest.mark.parametrize("arguments", [[], ["--help"], ["--version"]], ids=" ".join)
def test_the_top_level_imports_no_command_module(arguments: list[str]) -> None:
    assert set(_command_modules(arguments)) <= OWN


def _run_probe(heavy: tuple[str, ...], arguments: list[str]) -> list[str]:
    probe = PROBE.format(heavy=heavy)
    done = subprocess.run(
        [sys.executable, "-c", probe, *arguments], capture_output=True, text=True, check=True
    )
    return done.stdout.strip().splitlines()


def _loaded(heavy: tuple[str, ...], arguments: list[str]) -> list[str]:
    return json.loads(_run_probe(heavy, arguments)[-2])


def _command_modules(arguments: list[str]) -> list[str]:
    return json.loads(_run_probe((), arguments)[-1])
