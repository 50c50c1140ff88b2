"""`testament demo`: the main job on a synthetic case, as the README's first command runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from testament import demo
from testament.cli.main import app


def _contents(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_demo_runs_the_main_job_and_again_adds_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    home = str(tmp_path / "store")
    result = CliRunner().invoke(app, ["demo", "--home", home])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "4 preserved, 0 already present, 1 preserved with parse error" in out
    assert "1 recorded without media" in out
    assert "links.csv:4: neither a file nor a url" in result.stderr
    assert "(as planned: the spreadsheet has one bad row)" in out and "exit status" not in out
    assert "5 assets" in out
    assert "custody events checked: intact" in out
    assert "footage group 1: 3 assets" in out and "still from" in out and "same footage" in out
    assert "offset -0.00s" not in out
    first = _contents(tmp_path / "demo-case")

    # A second run into the same folder and store: the same case, byte for byte, and so
    # nothing new preserved (a re-encode that differed would be a new "re-upload").
    again = CliRunner().invoke(app, ["demo", "--home", home])
    assert again.exit_code == 0, again.output
    assert _contents(tmp_path / "demo-case") == first
    assert "0 preserved, 5 already present, 0 preserved with parse error" in again.stdout
    assert again.stdout.count("(0 new captures)") == 3
    assert "5 assets" in again.stdout and "footage group 1: 3 assets" in again.stdout
    assert "custody events checked: intact" in again.stdout
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".demo-case")] == []

    # Built elsewhere, on another run of the encoder, the case is the same bytes.
    demo.build_case(tmp_path / "elsewhere")
    assert _contents(tmp_path / "elsewhere") == first


def test_a_failed_build_leaves_the_earlier_case_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = tmp_path / "demo-case"
    (case / "downloads").mkdir(parents=True)
    (case / "downloads" / "original.mp4").write_bytes(b"an earlier run's video")

    def broken(path: Path, **_: object) -> Path:
        path.write_bytes(b"half a video")
        raise OSError("disk full")

    monkeypatch.setattr(demo, "write_video", broken)
    with pytest.raises(OSError, match="disk full"):
        demo.build_case(case)
    assert _contents(case) == {"downloads/original.mp4": b"an earlier run's video"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-case"]


def test_a_folder_holding_other_files_is_left_alone(tmp_path: Path) -> None:
    case = tmp_path / "notes"
    case.mkdir()
    (case / "mine.txt").write_text("not the demo's")
    result = CliRunner().invoke(app, ["demo", "--dir", str(case), "--home", str(tmp_path / "s")])
    assert result.exit_code == 2
    assert "holds files the demo does not write (mine.txt)" in result.stderr
    assert "Traceback" not in result.output
    assert _contents(case) == {"mine.txt": b"not the demo's"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]
