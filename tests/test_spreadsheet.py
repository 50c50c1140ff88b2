"""CSV lists: columns in any order, bad rows by line, what spreadsheet programs write."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine import Engine

from testament.catalog.models import Base, Capture
from testament.collect import ingest as ingest_module
from testament.collect import spreadsheet
from testament.collect.ingest import Ingest, Outcome
from testament.collect.items import Collected, Item, Problem, Sighting
from testament.collect.spreadsheet import collect_csv
from testament.store import Store
from tests.media import make_image, make_video

CONTEXT = Sighting(method="file")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder with a small video and a still, the way an investigator keeps them."""
    media = tmp_path / "list"
    media.mkdir()
    make_video(media / "clip.mp4", seconds=0.2, fps=10, width=64, height=36, seed=1)
    make_image(media / "still.jpg", width=64, height=36, seed=2)
    return media


def _write(path: Path, lines: list[str], *, newline: str = "\n", bom: bool = False) -> Path:
    text = newline.join(lines) + newline
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))
    return path


def _split(collected: list[Collected]) -> tuple[list[Item], dict[str, str]]:
    items = [entry for entry in collected if isinstance(entry, Item)]
    problems = {entry.label: entry.message for entry in collected if isinstance(entry, Problem)}
    return items, problems


def _captures(store: Store) -> dict[str | None, Capture]:
    with store.read() as session:
        captures = session.execute(select(Capture)).scalars().all()
        return {capture.filename: capture for capture in captures}


def test_rows_become_captures_whatever_the_column_order(folder: Path, store: Store) -> None:
    """Excel's 'CSV UTF-8': a byte-order mark, CRLF rows, LF inside a quoted text."""
    csv_path = _write(
        folder / "list.csv",
        [
            "Caption,Link,Posted At,File,Account,Platform,Notes,Post ID,Channel ID,Extra",
            '"Line one\nline two",https://t.me/demo/5,2020-12-10T14:00:00+04:00,clip.mp4,'
            "Demo Channel,telegram,seen twice,5,-1001234,ignored",
            f"a still,https://x.com/u/status/1,1607601600,{folder / 'still.jpg'},someone,x,,,,",
        ],
        newline="\r\n",
        bom=True,
    )

    summary = Ingest(store).run(collect_csv(csv_path, Sighting(method="file", note="from NGO")))

    assert summary.count(Outcome.PRESERVED) == 2 and summary.ok
    captures = _captures(store)
    clip = captures["clip.mp4"]
    assert clip.method == "csv"
    assert clip.url == "https://t.me/demo/5"
    assert clip.platform == "telegram"
    assert clip.channel == "Demo Channel"
    assert (clip.post_id, clip.channel_id) == ("5", "-1001234")
    assert clip.post_text == "Line one\nline two"
    assert clip.posted_at == datetime(2020, 12, 10, 10, 0, tzinfo=UTC)
    assert clip.note == "seen twice"
    assert clip.source_path == str((folder / "clip.mp4").resolve())
    assert clip.raw is not None and clip.raw["Extra"] == "ignored"
    still = captures["still.jpg"]
    assert still.posted_at == datetime(2020, 12, 10, 12, 0, tzinfo=UTC)
    assert still.note == "from NGO"
    assert (still.post_id, still.channel_id) == (None, None)


def test_optional_columns_may_be_absent(folder: Path) -> None:
    csv_path = _write(folder / "files.csv", ["FILE", "clip.mp4", "", "still.jpg"])

    items, problems = _split(list(collect_csv(csv_path, CONTEXT)))

    assert problems == {}
    assert [item.label for item in items] == [
        f"{csv_path}:2 (clip.mp4)",
        f"{csv_path}:4 (still.jpg)",
    ]
    sighting = items[0].sighting
    assert (sighting.url, sighting.platform, sighting.posted_at, sighting.post_text) == (
        None,
        None,
        None,
        None,
    )


def test_bad_rows_are_reported_by_line_and_good_rows_kept(folder: Path, store: Store) -> None:
    csv_path = _write(
        folder / "list.csv",
        [
            "file,url,posted_at,text",  # 1
            'clip.mp4,,2020-12-10,"a text over',  # 2
            'two lines"',  # 3
            ",,2020-12-10,no file and no url",  # 4
            "",  # 5
            "clip.mp4,,10/12/2020,a date that could be two dates",  # 6
            "missing.mp4,,,",  # 7
            "clip.mp4,https://t.me/demo/1,2020-12-10,an unquoted, comma",  # 8
            ",,,",  # 9
            "still.jpg,,,fine again",  # 10
        ],
    )

    summary = Ingest(store).run(collect_csv(csv_path, CONTEXT))

    problems = {r.label: r.message for r in summary.results if r.outcome is Outcome.FAILED}
    assert problems == {
        f"{csv_path}:4": "neither a file nor a url (spreadsheet row 3)",
        f"{csv_path}:6": "posted_at: not an ISO 8601 date or Unix time: '10/12/2020' "
        "(spreadsheet row 5)",
        f"{csv_path}:7": "file 'missing.mp4' not found (spreadsheet row 6)",
        f"{csv_path}:8": "5 fields where the header has 4 (spreadsheet row 7)",
    }
    preserved = [r.label for r in summary.results if r.outcome is Outcome.PRESERVED]
    assert preserved == [f"{csv_path}:2 (clip.mp4)", f"{csv_path}:10 (still.jpg)"]
    captures = _captures(store)
    assert captures["clip.mp4"].post_text == "a text over\ntwo lines"
    assert captures["still.jpg"].post_text == "fine again"


@pytest.mark.parametrize(
    ("name", "lines"),
    [
        ("list.csv", ["File;URL;Text", "clip.mp4;https://t.me/demo/5;a, b"]),
        ("list.tsv", ["file\turl\ttext", "clip.mp4\thttps://t.me/demo/5\ta, b"]),
        ("list.csv", ["file\turl\ttext", "clip.mp4\thttps://t.me/demo/5\ta, b"]),
    ],
)
def test_semicolon_and_tab_delimiters(folder: Path, name: str, lines: list[str]) -> None:
    items, problems = _split(list(collect_csv(_write(folder / name, lines), CONTEXT)))

    assert problems == {}
    (item,) = items
    assert item.path == (folder / "clip.mp4").resolve()
    assert (item.sighting.url, item.sighting.post_text) == ("https://t.me/demo/5", "a, b")


def test_a_header_without_file_or_url_is_one_problem(folder: Path) -> None:
    csv_path = _write(folder / "list.csv", ["name,date", "clip.mp4,2020-12-10"])

    (problem,) = collect_csv(csv_path, CONTEXT)

    assert isinstance(problem, Problem) and problem.label == str(csv_path)
    assert problem.message.startswith("no file or url column (found 'name', 'date')")


def test_two_columns_for_one_field_is_one_problem(folder: Path) -> None:
    csv_path = _write(folder / "list.csv", ["url,link", "https://a.example/1,https://b.example/1"])

    (problem,) = collect_csv(csv_path, CONTEXT)

    assert isinstance(problem, Problem)
    assert problem.message == "columns 'url' and 'link' both give the url"


def test_a_list_that_is_not_utf8_is_one_problem(folder: Path) -> None:
    csv_path = folder / "list.csv"
    csv_path.write_bytes("file,text\nclip.mp4,café\n".encode("latin-1"))

    (problem,) = collect_csv(csv_path, CONTEXT)

    assert isinstance(problem, Problem) and "not UTF-8" in problem.message


def test_url_rows_go_to_the_url_collector(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, Sighting]] = []

    def collect_url(url: str, context: Sighting) -> Iterator[Collected]:
        calls.append((url, context))
        yield Item(label=url, sighting=context, fetch=lambda _folder: [])

    monkeypatch.setattr(spreadsheet, "collect_url", collect_url)
    csv_path = _write(
        folder / "list.csv",
        [
            "url,channel,posted_at,text,note",
            "https://t.me/demo/7,Demo,2020-12-10T12:00:00Z,seen in the feed,",
            "not a link,Demo,,,",
        ],
    )

    items, problems = _split(list(collect_csv(csv_path, Sighting(method="file", note="cli"))))

    assert problems == {f"{csv_path}:3": "url 'not a link' is not a web address"}
    assert [item.label for item in items] == ["https://t.me/demo/7"]
    ((url, sighting),) = calls
    assert url == "https://t.me/demo/7"
    assert sighting.method == "csv"
    assert sighting.url == url and sighting.channel == "Demo"
    assert sighting.posted_at == datetime(2020, 12, 10, 12, 0, tzinfo=UTC)
    assert (sighting.post_text, sighting.note) == ("seen in the feed", "cli")


def test_ingesting_a_list_through_the_cli_twice(folder: Path, store: Store, cli) -> None:
    csv_path = _write(
        folder / "list.csv",
        ["file,platform,channel", "clip.mp4,telegram,Demo", "still.jpg,x,someone"],
    )

    first = cli("ingest", str(csv_path), "--json")
    second = cli("ingest", str(csv_path), "--json")

    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["summary"]["new_captures"] == 2
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout)["summary"]["new_captures"] == 0
    captures = _captures(store)
    assert {name: capture.channel for name, capture in captures.items()} == {
        "clip.mp4": "Demo",
        "still.jpg": "someone",
    }
    assert all(capture.method == "csv" for capture in captures.values())


def test_cells_naming_impossible_files_fail_their_row_only(folder: Path, store: Store) -> None:
    too_long = "n" * 300 + ".mp4"
    os.mkfifo(folder / "pipe")
    csv_path = _write(
        folder / "list.csv",
        ["file,posted_at", f"{too_long},", "pipe,", "clip.mp4,99999999999999999999", "still.jpg,"],
    )

    summary = Ingest(store).run(collect_csv(csv_path, CONTEXT))

    problems = {r.label: r.message for r in summary.results if r.outcome is Outcome.FAILED}
    assert problems == {
        f"{csv_path}:2": f"file '{'n' * 59}…{'n' * 16}.mp4' cannot be read (File name too long)",
        f"{csv_path}:3": "file 'pipe' is a named pipe, not a file",
        f"{csv_path}:4": "posted_at: Unix time out of range: '99999999999999999999'",
    }
    assert [r.label for r in summary.results if r.outcome is Outcome.PRESERVED] == [
        f"{csv_path}:5 (still.jpg)"
    ]


def _rows(folder: Path, name: str, first: int, count: int) -> Path:
    """A list whose rows all name one file, each seen in another post."""
    rows = [f"still.jpg,https://t.me/demo/{post}" for post in range(first, first + count)]
    return _write(folder / name, ["file,url", *rows])


@contextmanager
def _counting() -> Iterator[Counter[str]]:
    """SQL statements run, and catalog records loaded by kind, while the block runs."""
    counts: Counter[str] = Counter()

    def statement(*_args: object) -> None:
        counts["statements"] += 1

    def loaded(target: object, _context: object) -> None:
        counts[type(target).__name__] += 1

    event.listen(Engine, "before_cursor_execute", statement)
    event.listen(Base, "load", loaded, propagate=True)
    try:
        yield counts
    finally:
        event.remove(Engine, "before_cursor_execute", statement)
        event.remove(Base, "load", loaded)


def test_each_row_naming_one_file_costs_the_same(
    folder: Path, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The work per row must not grow with the captures the file already has.

    A batch also closes after BATCH_SECONDS: on a busy machine ten rows can take longer and
    be committed as two batches (a second look-up and custody head), which is not work
    per row. So here a batch closes on its item count only.
    """
    monkeypatch.setattr(ingest_module, "BATCH_SECONDS", 3600.0)
    ingest = Ingest(store)
    ingest.run(collect_csv(_rows(folder, "first.csv", 0, 1), CONTEXT))
    with _counting() as early:
        ingest.run(collect_csv(_rows(folder, "early.csv", 1, 10), CONTEXT))
    ingest.run(collect_csv(_rows(folder, "many.csv", 11, 60), CONTEXT))
    with _counting() as late:
        summary = ingest.run(collect_csv(_rows(folder, "late.csv", 71, 10), CONTEXT))

    assert summary.as_dict()["new_captures"] == 10
    assert late == early
    assert late["Capture"] == 0
