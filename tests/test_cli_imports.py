"""The command line starts quickly: building the app and printing help load no heavy library.

Not a timing test (benchmarks/cli_startup.py measures the time); it guards the import
structure, which one eager import at the top of a command module would undo.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("numpy", "av", "faiss", "PIL", "matplotlib", "fastapi", "yt_dlp", "sqlalchemy")

# Runs in a fresh interpreter: builds the app, asks it for help, and reports which of
# the heavy modules were loaded along the way.
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
"""


@pytest.mark.parametrize(
    "arguments",
    [[], ["--help"], ["match", "--help"], ["export", "--help"], ["user", "--help"]],
    ids=lambda arguments: " ".join(arguments) or "no arguments",
)
def test_help_loads_no_heavy_library(arguments: list[str]) -> None:
    probe = PROBE.format(heavy=HEAVY)
    done = subprocess.run(
        [sys.executable, "-c", probe, *arguments], capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [], f"`testament {' '.join(arguments)}` loaded {', '.join(loaded)}"
