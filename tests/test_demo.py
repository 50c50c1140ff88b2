"""`testament demo`: the main job on a synthetic case, as the README's first command runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from testament.cli.main import app


def test_demo_runs_the_main_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["demo", "--home", str(tmp_path / "store")])
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
