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


# Runs `testament ARGUMENTS` through the entry point in a fresh interpreter, then reports
# its JSON answer, the collector's state, how many objects were frozen, and which of
# Pillow's format plugins were loaded.
ENTRY_PROBE = """
import gc, json, sys
from contextlib import redirect_stdout
from io import StringIO

from testament.cli.main import main

sys.argv = ["testament", *sys.argv[1:]]
answer = StringIO()
with redirect_stdout(answer):
    try:
        main()
    except SystemExit:
        pass
plugins = sorted(n for n in sys.modules if n.startswith("PIL.") and n.endswith("ImagePlugin"))
print(json.dumps({
    "answer": json.loads(answer.getvalue()),
    "collecting": gc.isenabled(),
    "frozen": gc.get_freeze_count(),
    "plugins": plugins,
}))
"""


def test_a_still_query_freezes_its_libraries_and_tries_no_video_as_a_picture(
    store: Store, tmp_path: Path
) -> None:
    """The query's libraries load with the collector paused and are then frozen, the
    collector is on again for the work, and the stored video is decoded without first
    being tried as a picture by every format plugin Pillow has."""
    from testament.collect.files import collect_path
    from testament.collect.ingest import Ingest
    from testament.collect.items import Sighting
    from testament.demo import write_still, write_video

    video = write_video(tmp_path / "video.mp4", seed=5, seconds=3, width=320, height=180)
    still = write_still(tmp_path / "still.jpg", seed=5, t=1.5, width=320, height=180)
    Ingest(store).run(collect_path(video, Sighting(method="file")))
    where = ["--home", str(store.settings.home), "--database-url", store.settings.database_url]
    done = subprocess.run(
        [sys.executable, "-c", ENTRY_PROBE, "match", str(still), "--json", *where],
        capture_output=True,
        text=True,
        check=True,
    )
    probe = json.loads(done.stdout.strip().splitlines()[-1])
    assert [m["relation"] for m in probe["answer"]["matches"]] == ["still_from"]
    assert probe["collecting"]
    assert probe["frozen"] > 50_000  # SQLAlchemy, the models, NumPy and FAISS at least
    assert probe["plugins"] == ["PIL.JpegImagePlugin"]  # the still's own format only


def test_commands_run_in_turn_freeze_nothing(cli, store: Store, tmp_path: Path) -> None:
    """In a process that is not the command line's own (these tests), nothing is frozen."""
    import gc

    still = make_image(tmp_path / "still.jpg")
    before = gc.get_freeze_count()
    result = cli("match", str(still), "--json")
    assert result.exit_code == 0, result.output
    assert gc.get_freeze_count() == before and gc.isenabled()


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
