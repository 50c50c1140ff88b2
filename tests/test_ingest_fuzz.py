"""Importers fed whatever an export or a list might hold: nothing escapes, nothing is lost.

Each test keeps one store across its examples, so that every example also checks that
what the earlier ones preserved is still there.
"""

from __future__ import annotations

import csv
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from testament.catalog.models import Asset, Capture
from testament.collect.ingest import Ingest, Outcome, Summary
from testament.collect.items import Collected, Item, Problem, Sighting, Skipped
from testament.collect.spreadsheet import collect_csv
from testament.collect.telegram import EXPORT_FILE, collect_export
from testament.store import Store
from tests.media import make_image

FUZZ = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CONTEXT = Sighting(method="file")
MEDIA = ("photos/one.jpg", "files/two.jpg")
TRICKY_PATHS = (
    *MEDIA,
    "photos",
    "photos/gone.jpg",
    "../outside.jpg",
    "/etc/hostname",
    "photos/a\x00b.jpg",
    "photos/" + "n" * 300 + ".jpg",
    "(File not included. Change data exporting settings to download.)",
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**63)
    | st.floats()
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=8,
)
texts = st.one_of(st.text(max_size=20), st.text(min_size=130, max_size=300), json_values)


def _maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Mostly what the field should hold, one time in ten any JSON value at all."""
    return st.integers(0, 9).flatmap(lambda roll: json_values if roll == 0 else strategy)


messages = st.fixed_dictionaries(
    {
        "id": _maybe(st.integers(0, 10**6) | st.text(max_size=200)),
        "type": _maybe(st.just("message")),
    },
    optional={
        "photo": _maybe(st.sampled_from(TRICKY_PATHS)),
        "file": _maybe(st.sampled_from(TRICKY_PATHS)),
        "text": _maybe(st.lists(st.text(max_size=10) | st.fixed_dictionaries({"text": texts}))),
        "forwarded_from": texts,
        "views": _maybe(st.integers(-(2**70), 2**70)),
        "reply_to_message_id": _maybe(st.integers() | st.text(max_size=200)),
        "date_unixtime": _maybe(st.integers() | st.text(max_size=30)),
        "date": _maybe(st.sampled_from(["2020-12-10T16:00:00", "0001-01-01T00:00:00"])),
    },
)
chats = st.fixed_dictionaries(
    {"messages": _maybe(st.lists(_maybe(messages), max_size=4))},
    optional={
        "name": texts,
        "id": _maybe(st.integers() | st.text(max_size=200)),
        "type": _maybe(st.sampled_from(["private_channel", "public_channel", "personal_chat"])),
    },
)
exports = st.one_of(
    chats,
    st.fixed_dictionaries(
        {"chats": _maybe(st.fixed_dictionaries({"list": _maybe(st.lists(_maybe(chats)))}))},
        optional={"left_chats": _maybe(st.fixed_dictionaries({"list": st.lists(chats)}))},
    ),
    json_values,
)


@pytest.fixture(scope="module")
def pictures(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    folder = tmp_path_factory.mktemp("pictures")
    return [
        make_image(folder / f"{i}.jpg", width=32, height=24, seed=i).read_bytes() for i in (1, 2)
    ]


def _kept(store: Store) -> tuple[set[str], set[str]]:
    """The SHA-256 of every asset and the key of every capture in the catalog."""
    with store.read() as session:
        assets = set(session.execute(select(Asset.sha256)).scalars())
        captures = set(session.execute(select(Capture.key)).scalars())
    return assets, captures


def _ingest_and_check(store: Store, collected: list[Collected]) -> Summary:
    """Ingest; nothing raises, every line is one line, nothing kept before is lost."""
    assert all(isinstance(entry, Item | Problem | Skipped) for entry in collected)
    before = _kept(store)
    summary = Ingest(store, steps=[]).run(collected)
    after = _kept(store)
    assert before[0] <= after[0] and before[1] <= after[1]
    assert set(store.blobs.iter_sha256()) == after[0]  # every blob catalogued, none orphaned
    assert all(store.blobs.current_sha256(sha) == sha for sha in after[0])
    assert len(summary.results) == len(collected)
    for result in summary.results:
        assert "\n" not in result.label and "\n" not in (result.message or "")
        assert result.outcome is not Outcome.FAILED or result.message
    return summary


@FUZZ
@given(document=exports)
def test_any_telegram_export_fails_per_item(
    store: Store, tmp_path: Path, pictures: list[bytes], document: Any
) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as where:
        folder = Path(where) / "ChatExport"
        for path, data in zip(MEDIA, pictures, strict=True):
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(data)
        (folder / EXPORT_FILE).write_text(json.dumps(document), encoding="utf-8")

        collected = list(collect_export(folder, CONTEXT))

        _ingest_and_check(store, collected)


def test_an_export_nested_very_deep_is_one_problem(tmp_path: Path) -> None:
    folder = tmp_path / "ChatExport"
    folder.mkdir()
    depth = 100_000
    (folder / EXPORT_FILE).write_text('{"messages": ' + "[" * depth + "]" * depth + "}")

    (problem,) = collect_export(folder, CONTEXT)

    assert isinstance(problem, Problem)
    assert problem.message == "not a Telegram export: its JSON is nested too deeply to read"


HEADER = ["file", "platform", "channel", "channel_id", "post_id", "posted_at", "text", "note"]
cells = st.one_of(
    st.text(max_size=30),
    st.text(min_size=60, max_size=300),
    st.sampled_from(["still.jpg", "gone.jpg", "sub", "n" * 300, "a\x00b", "../still.jpg"]),
    st.sampled_from(["99999999999999999999", "0001-01-01T00:00:00+05:00", "2020-12-10"]),
)
rows = st.lists(
    st.lists(cells, min_size=len(HEADER) - 1, max_size=len(HEADER) + 1), min_size=1, max_size=5
)


@FUZZ
@given(table=rows)
def test_any_csv_list_fails_per_row(
    store: Store, tmp_path: Path, pictures: list[bytes], table: list[list[str]]
) -> None:
    with tempfile.TemporaryDirectory(dir=tmp_path) as where:
        folder = Path(where)
        (folder / "still.jpg").write_bytes(pictures[0])
        (folder / "sub").mkdir()
        listing = folder / "list.csv"
        with listing.open("w", encoding="utf-8", newline="") as out:
            csv.writer(out).writerows([HEADER, *table])

        collected = list(collect_csv(listing, CONTEXT))

        _ingest_and_check(store, collected)
