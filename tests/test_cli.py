"""The command line as a person uses it: summaries, JSON records, one-line errors."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from testament.cli.main import app
from testament.store import Store
from tests.media import make_corrupt_video, make_image, make_video


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "clips"
    folder.mkdir()
    make_video(folder / "clip.mp4", seconds=1.0)
    make_image(folder / "still.jpg")
    make_corrupt_video(folder / "broken.mp4")
    (folder / ".DS_Store").write_bytes(b"clutter")
    return folder


def test_ingest_summary_and_idempotence(cli, store: Store, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    args = (
        "ingest",
        str(folder),
        "--platform",
        "telegram",
        "--channel",
        "@chan",
        "--posted-at",
        "2020-12-10T12:00:00+03:00",
        "--note",
        "from a colleague",
    )
    first = cli(*args)
    assert first.exit_code == 0, first.output
    assert (
        "2 preserved, 0 already present, 1 preserved with parse error, "
        "0 recorded without media, 0 skipped, 0 failed (3 new captures)"
    ) in first.stdout
    assert "broken.mp4: cannot parse as video" in first.stderr
    again = cli(*args, "--json")
    body = json.loads(again.stdout)
    assert body["summary"]["already_present"] == 3 and body["summary"]["new_captures"] == 0


def test_assets_show_and_custody_json(cli, store: Store, tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    cli("ingest", str(folder), "--platform", "telegram", "--posted-at", "2020-12-10T12:00:00+03:00")
    assets = json.loads(cli("assets", "--json").stdout)
    assert sorted(a["media_type"] for a in assets) == ["image", "video", "video"]
    broken = next(a for a in assets if a["parse_error"])
    assert broken["original_filename"] == "broken.mp4"
    clip = next(a for a in assets if a["original_filename"] == "clip.mp4")
    shown = json.loads(cli("show", clip["sha256"][:8], "--json").stdout)
    (capture,) = shown["captures"]
    assert capture["platform"] == "telegram"
    assert capture["posted_at"] == "2020-12-10T09:00:00Z"
    assert capture["source_path"] == str((folder / "clip.mp4").resolve())
    assert capture["collected_by"] == "tester"
    # Its previews (a thumbnail and six keyframes) are made at ingest, by the same actor.
    assert [e["action"] for e in shown["custody"]] == [
        "stored",
        "probed",
        "collected",
        "fingerprinted",
    ] + ["derived"] * 7
    assert {e["actor"] for e in shown["custody"]} == {"tester"}
    assert shown["probe"]["duration"] == 1.0
    events = json.loads(cli("custody", "log", "--json").stdout)
    assert events[0]["action"] == "init" and len(events) > len(shown["custody"])
    assert (
        json.loads(cli("custody", "log", clip["sha256"][:8], "--json").stdout) == shown["custody"]
    )
    text = cli("show", broken["sha256"][:8]).stdout
    assert "parse error" in text and "cannot parse as video" in text


def test_missing_path_fails_in_one_line_and_sets_exit_status(
    cli, store: Store, tmp_path: Path
) -> None:
    make_image(tmp_path / "ok.jpg")
    result = cli("ingest", str(tmp_path / "nowhere"), str(tmp_path / "ok.jpg"))
    assert result.exit_code == 1
    assert f"failed {tmp_path / 'nowhere'}: no such file or folder" in result.stderr
    assert "1 preserved" in result.stdout


def test_unknown_prefix_and_bad_date_are_one_line(cli, store: Store, tmp_path: Path) -> None:
    missing = cli("show", "abcdef12")
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "error: no asset with sha256 starting abcdef12"
    bad = cli("show", "xyz")
    assert "not a sha256 prefix" in bad.stderr
    date = cli("ingest", str(tmp_path), "--posted-at", "last tuesday")
    assert date.exit_code == 2 and "--posted-at" in date.stderr and "last tuesday" in date.stderr


def test_uninitialised_store_is_named(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["assets", "--home", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"error: no testament store at {tmp_path / 'none'} (run 'testament init')"
    )


def test_init_is_idempotent_and_keeps_the_key(tmp_path: Path) -> None:
    runner = CliRunner()
    home = str(tmp_path / "home")
    first = json.loads(runner.invoke(app, ["init", "--home", home, "--json"]).stdout)
    second = json.loads(runner.invoke(app, ["init", "--home", home, "--json"]).stdout)
    assert first["created"] and not second["created"]
    assert first["key_id"] == second["key_id"]


def test_what_is_not_a_file_is_skipped_by_name_and_counted(
    cli, store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "dir"
    folder.mkdir()
    make_image(folder / "ok.jpg")
    os.mkfifo(folder / "fifo")
    (folder / "loop").symlink_to(folder / "loop")
    (folder / "dangling").symlink_to(tmp_path / "gone.mp4")
    (folder / "elsewhere").symlink_to(tmp_path, target_is_directory=True)

    result = cli("ingest", str(folder))

    assert result.exit_code == 0, result.output
    assert "1 preserved" in result.stdout and "4 skipped, 0 failed" in result.stdout
    skipped = {line for line in result.stderr.splitlines() if line.startswith("skipped ")}
    assert skipped == {
        f"skipped {folder / 'dangling'}: a symbolic link to a missing file "
        f"(target {tmp_path / 'gone.mp4'})",
        f"skipped {folder / 'elsewhere'}: a symbolic link to a folder, not followed",
        f"skipped {folder / 'fifo'}: a named pipe, not a file",
        f"skipped {folder / 'loop'}: a symbolic link loop",
    }


def test_things_named_directly_say_what_they_are(cli, store: Store, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    too_long = tmp_path / ("n" * 300 + ".mp4")

    result = cli("ingest", str(tmp_path / "fifo"), str(tmp_path / "loop"), str(too_long))

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert f"skipped {tmp_path / 'fifo'}: a named pipe, not a file" in lines
    assert f"skipped {tmp_path / 'loop'}: a symbolic link loop" in lines
    assert f"failed {too_long}: cannot read (File name too long)" in lines
    assert "2 skipped, 1 failed" in result.stdout


def test_a_file_cut_short_is_shown_as_partial(cli, store: Store, tmp_path: Path) -> None:
    whole = make_video(tmp_path / "whole.webm", seconds=3.0, codec="libvpx-vp9", width=64)
    data = whole.read_bytes()
    folder = tmp_path / "downloads"
    folder.mkdir()
    (folder / "cut.webm").write_bytes(data[: len(data) // 2])

    result = cli("ingest", str(folder))

    assert "0 preserved, 0 already present, 1 preserved with parse error" in result.stdout
    expected = (
        "cannot parse as video to the end: the file is cut short "
        f"(its segment runs to byte {len(data)} of {len(data) // 2})"
    )
    assert f"preserved with parse error {folder / 'cut.webm'}: {expected}" in result.stderr
    (asset,) = json.loads(cli("assets", "--json").stdout)
    assert asset["parse_error"] == expected
    assert "parse" in cli("assets").stdout  # the table marks it (wrapped to the width)
    assert expected in cli("show", asset["sha256"][:8]).stdout


def test_a_name_that_is_not_utf8_is_kept_readable(cli, store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "copied"
    folder.mkdir()
    odd = os.fsdecode(os.fsencode(folder) + b"/clip\xff.jpg")
    make_image(Path(odd))

    result = cli("ingest", str(folder), "--json")

    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["results"]
    assert (entry["item"], entry["outcome"]) == (f"{folder}/clip\\xff.jpg", "preserved")
    shown = json.loads(cli("show", entry["sha256"][:8], "--json").stdout)
    assert shown["captures"][0]["filename"] == "clip\\xff.jpg"


def test_piped_tables_show_every_value_whole(cli, store: Store, tmp_path: Path) -> None:
    name = "checkpoint-north-crossing-filmed-from-the-second-floor-window-2026-12-01.mp4"
    make_video(tmp_path / name, seconds=1.0)
    assert cli("ingest", str(tmp_path / name)).exit_code == 0
    piped = subprocess.run(
        [sys.executable, "-m", "testament", "assets"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        check=True,
    )
    (row,) = [line for line in piped.stdout.splitlines() if "checkpoint" in line]
    assert name in row and "…" not in piped.stdout
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", row)
    assert name in cli("assets").stdout  # in-process, under the test runner, too


def test_counts_agree_and_each_capture_value_is_printed_once(
    cli, store: Store, tmp_path: Path
) -> None:
    image = make_image(tmp_path / "still.jpg")
    ingest = cli("ingest", str(image), "--platform", "telegram", "--channel", "Demo Channel")
    assert "(1 new capture)" in ingest.stdout
    assert cli("assets").stdout.splitlines()[-1] == "1 asset"
    (asset,) = json.loads(cli("assets", "--json").stdout)
    shown = cli("show", asset["sha256"][:8]).stdout
    (line,) = [line for line in shown.splitlines() if "Demo Channel" in line]
    assert "platform telegram, channel Demo Channel" in line
    assert line.count("telegram") == 1
    assert "posting time unknown" in line


def test_counted_agrees_with_its_number() -> None:
    from testament.cli.common import counted

    assert counted(1, "asset") == "1 asset"
    assert counted(0, "asset") == "0 assets"
    assert counted(1024, "frame hash", "frame hashes") == "1,024 frame hashes"
