"""Telegram Desktop exports: both layouts, post context, missing media, unsafe paths."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from testament.catalog.models import Asset, Capture
from testament.collect.ingest import Ingest, Outcome
from testament.collect.items import Item, Problem, Sighting, shown
from testament.collect.telegram import EXPORT_FILE, collect_export
from testament.store import Store
from tests.media import make_image, make_video

NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
NOON_UTC = 1607601600  # 2020-12-10 12:00:00 UTC


def _video(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_video(path, seconds=0.2, fps=10, width=64, height=36, seed=seed)


def _image(path: Path, seed: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return make_image(path, width=64, height=36, seed=seed)


def _message(message_id: int, **fields: Any) -> dict[str, Any]:
    """A message as Telegram Desktop writes it (local `date`, exact `date_unixtime`)."""
    return {
        "id": message_id,
        "type": "message",
        "date": "2020-12-10T16:00:00",
        "date_unixtime": str(NOON_UTC),
        "from": "Channel",
        "from_id": "channel1234567890",
        "text": "",
        "text_entities": [],
        **fields,
    }


def _before_2021(message: dict[str, Any]) -> dict[str, Any]:
    """Older exports have no `date_unixtime`; their `date` has no zone."""
    return {name: value for name, value in message.items() if name != "date_unixtime"}


def _write(folder: Path, document: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / EXPORT_FILE).write_text(json.dumps(document, ensure_ascii=False, indent=1))
    return folder


def _single_chat_export(tmp_path: Path) -> Path:
    """One private channel with every kind of message the collector must handle."""
    folder = tmp_path / "ChatExport_2020-12-10"
    _video(folder / "video_files" / "clip.mp4", seed=1)
    _image(folder / "photos" / "photo_1@10-12-2020_14-30-00.jpg", seed=2)
    _image(folder / "photos" / "photo_2@10-12-2020_15-00-00.jpg", seed=3)
    _video(folder / "files" / "both.mp4", seed=4)
    outside = _video(tmp_path / "outside.mp4", seed=5)
    (folder / "video_files" / "link.mp4").symlink_to(outside)
    text = [
        "Footage from ",
        {"type": "bold", "text": "the village"},
        " ",
        {"type": "hashtag", "text": "#report"},
    ]
    messages = [
        _message(
            1,
            type="service",
            actor="Channel",
            action="edit_group_photo",
            photo="photos/photo_1@10-12-2020_14-30-00.jpg",
        ),
        _message(
            10,
            file="video_files/clip.mp4",
            media_type="video_file",
            mime_type="video/mp4",
            text=text,
            forwarded_from="Source Channel",
            views=1500,
            reply_to_message_id=9,
        ),
        _before_2021(
            _message(
                11,
                photo="photos/photo_1@10-12-2020_14-30-00.jpg",
                text="A still",
                date="2020-12-10T14:30:00",
            )
        ),
        _message(12, file=NOT_INCLUDED, media_type="video_file", text="Too large"),
        _message(13, text="Only words, no media"),
        _message(14, file="video_files/gone.mp4", media_type="video_file"),
        _message(15, file="../outside.mp4", media_type="video_file"),
        _message(16, file=str(outside), media_type="video_file"),
        _message(17, file="video_files/link.mp4", media_type="video_file"),
        _message(18, photo="photos/photo_2@10-12-2020_15-00-00.jpg", file="files/both.mp4"),
    ]
    document = {
        "name": "Front Line News",
        "type": "private_channel",
        "id": 1234567890,
        "messages": messages,
    }
    return _write(folder, document)


def _captures(store: Store) -> dict[tuple[str | None, str | None], Capture]:
    """Captures by (post id, file name), loaded with their assets."""
    with store.read() as session:
        captures = session.execute(select(Capture)).scalars().all()
        for capture in captures:
            _ = capture.asset
        return {(capture.post_id, capture.filename): capture for capture in captures}


def _count(store: Store, model: type[Asset] | type[Capture]) -> int:
    with store.read() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_single_chat_export_items(tmp_path: Path) -> None:
    folder = _single_chat_export(tmp_path)
    collected = list(collect_export(folder, Sighting(method="file")))

    items = {entry.label: entry for entry in collected if isinstance(entry, Item)}
    problems = {entry.label: entry.message for entry in collected if isinstance(entry, Problem)}
    prefix = "ChatExport_2020-12-10"
    assert set(items) == {
        f"{prefix} #10 (video_files/clip.mp4)",
        f"{prefix} #11 (photos/photo_1@10-12-2020_14-30-00.jpg)",
        f"{prefix} #12 (file)",
        f"{prefix} #14 (video_files/gone.mp4)",
        f"{prefix} #18 (photos/photo_2@10-12-2020_15-00-00.jpg)",
        f"{prefix} #18 (files/both.mp4)",
    }
    outside = tmp_path / "outside.mp4"
    assert problems == {  # a long path (the temporary folder's) is shortened in both
        f"{prefix} #{post} ({shown(path)})": (
            f"refused: media path {shown(path)!r} is outside the export folder"
        )
        for post, path in ((15, "../outside.mp4"), (16, str(outside)), (17, "video_files/link.mp4"))
    }

    clip = items[f"{prefix} #10 (video_files/clip.mp4)"]
    assert clip.path == folder.resolve() / "video_files" / "clip.mp4"
    assert clip.sighting.method == "telegram"
    assert clip.sighting.raw is not None and clip.sighting.raw["id"] == 10
    assert items[f"{prefix} #12 (file)"].missing_reason == NOT_INCLUDED
    gone = items[f"{prefix} #14 (video_files/gone.mp4)"]
    assert gone.path is None
    assert gone.missing_reason == "video_files/gone.mp4 is not in the export folder"


def test_single_chat_export_is_preserved_once_with_post_context(
    tmp_path: Path, store: Store
) -> None:
    folder = _single_chat_export(tmp_path)
    summary = Ingest(store).run(collect_export(folder, Sighting(method="file")))

    assert summary.count(Outcome.PRESERVED) == 4
    assert summary.count(Outcome.MEDIA_MISSING) == 2
    assert summary.count(Outcome.FAILED) == 3
    captures = _captures(store)
    assert len(captures) == 6

    clip = captures[("10", "clip.mp4")]
    assert clip.method == "telegram" and clip.platform == "telegram"
    assert clip.channel == "Front Line News"
    assert clip.channel_id == "1234567890"
    assert clip.url == "https://t.me/c/1234567890/10"
    assert clip.posted_at == datetime(2020, 12, 10, 12, 0, tzinfo=UTC)
    assert clip.post_text == "Footage from the village #report"
    assert clip.forwarded_from == "Source Channel"
    assert clip.views == 1500
    assert clip.reply_to == "9"
    assert clip.source_path == str(folder.resolve() / "video_files" / "clip.mp4")
    assert clip.raw is not None and clip.raw["media_type"] == "video_file"
    assert clip.asset is not None and clip.asset.media_type == "video"

    still = captures[("11", "photo_1@10-12-2020_14-30-00.jpg")]
    assert still.posted_at == datetime(2020, 12, 10, 14, 30, tzinfo=UTC)
    assert still.post_text == "A still"
    assert still.forwarded_from is None and still.views is None and still.reply_to is None
    assert still.asset is not None and still.asset.media_type == "image"

    not_included = captures[("12", None)]
    assert not_included.media_missing and not_included.asset is None
    assert not_included.missing_reason == NOT_INCLUDED
    assert not_included.post_text == "Too large"
    gone = captures[("14", "gone.mp4")]
    assert gone.media_missing and gone.asset is None

    assert captures[("18", "both.mp4")].asset is not None
    assert captures[("18", "photo_2@10-12-2020_15-00-00.jpg")].asset is not None
    assert not any(post_id in ("15", "16", "17") for post_id, _ in captures)

    assets = _count(store, Asset)
    again = Ingest(store).run(collect_export(folder, Sighting(method="file")))
    assert again.as_dict()["new_captures"] == 0
    assert again.count(Outcome.PRESERVED) == 0
    assert (_count(store, Asset), _count(store, Capture)) == (assets, 6)


def test_all_chats_export_through_the_cli(tmp_path: Path, store: Store, cli) -> None:
    folder = tmp_path / "DataExport_2020-12-10"
    _video(folder / "chats" / "chat_002" / "video_files" / "clip.mp4", seed=1)
    _video(folder / "chats" / "chat_003" / "video_files" / "clip.mp4", seed=1)
    _image(folder / "chats" / "chat_001" / "photos" / "photo_1.jpg", seed=2)
    document = {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 42, "first_name": "Investigator"},
        "chats": {
            "about": "This page lists all chats from this export.",
            "list": [
                {
                    "name": "Alice",
                    "type": "personal_chat",
                    "id": 111,
                    "messages": [
                        _message(3, photo="chats/chat_001/photos/photo_1.jpg", text="look"),
                    ],
                },
                {
                    "name": "Regional Group",
                    "type": "public_supergroup",
                    "id": 222,
                    "messages": [
                        _message(
                            5, file="chats/chat_002/video_files/clip.mp4", media_type="video_file"
                        ),
                    ],
                },
            ],
        },
        "left_chats": {
            "about": "This page lists all supergroups and channels from this export "
            "that you've left.",
            "list": [
                {
                    "name": "Gone Channel",
                    "type": "private_channel",
                    "id": 333,
                    "messages": [
                        _message(
                            7,
                            file="chats/chat_003/video_files/clip.mp4",
                            media_type="video_file",
                            forwarded_from="Regional Group",
                        ),
                    ],
                },
            ],
        },
    }
    _write(folder, document)

    result = cli(
        "ingest", str(folder), "--channel", "@not_these_chats", "--note", "from NGO", "--json"
    )

    assert result.exit_code == 0, result.output
    output = json.loads(result.stdout)
    assert output["summary"]["preserved"] == 2
    assert output["summary"]["already_present"] == 1
    assert output["summary"]["new_captures"] == 3
    labels = {entry["item"] for entry in output["results"]}
    assert "DataExport_2020-12-10/Regional Group #5 (chats/chat_002/video_files/clip.mp4)" in labels

    captures = {capture.channel: capture for capture in _captures(store).values()}
    assert set(captures) == {"Alice", "Regional Group", "Gone Channel"}
    assert captures["Alice"].url is None
    assert captures["Alice"].post_text == "look"
    assert captures["Regional Group"].url == "https://t.me/c/222/5"
    assert captures["Gone Channel"].url == "https://t.me/c/333/7"
    assert captures["Gone Channel"].forwarded_from == "Regional Group"
    assert all(capture.note == "from NGO" for capture in captures.values())
    assert captures["Regional Group"].asset_id == captures["Gone Channel"].asset_id


def test_a_public_username_given_as_channel_makes_public_links(tmp_path: Path) -> None:
    folder = tmp_path / "ChatExport_2020-12-11"
    _video(folder / "video_files" / "clip.mp4", seed=7)
    _write(
        folder,
        {
            "name": "Front Line News",
            "type": "public_channel",
            "id": 55,
            "messages": [_message(10, file="video_files/clip.mp4")],
        },
    )
    context = Sighting(method="file", channel="@frontline_news", note="from NGO")

    (item,) = collect_export(folder, context)

    assert isinstance(item, Item)
    assert item.sighting.url == "https://t.me/frontline_news/10"
    assert item.sighting.channel == "Front Line News"
    assert item.sighting.note == "from NGO"


def test_invalid_json_is_one_problem_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "ChatExport_broken"
    folder.mkdir()
    (folder / EXPORT_FILE).write_text('{\n "name": "x",\n "messages": [\n')

    (problem,) = collect_export(folder, Sighting(method="file"))

    assert isinstance(problem, Problem)
    assert problem.label == str(folder / EXPORT_FILE)
    assert "invalid JSON" in problem.message and "line 4 column 1" in problem.message


def test_json_that_is_not_an_export_is_one_problem(tmp_path: Path) -> None:
    folder = _write(tmp_path / "other", {"about": "something else"})

    (problem,) = collect_export(folder, Sighting(method="file"))

    assert isinstance(problem, Problem)
    assert problem.message == "no chats with messages in this export"


def _with_one_good_chat(bad: dict[str, Any], tmp_path: Path) -> Path:
    """An all-chats export: the given bad entry, then a chat whose photo is fine."""
    folder = tmp_path / "DataExport"
    _image(folder / "photos" / "good.jpg", seed=9)
    good = {"name": "Good", "id": 2, "type": "private_channel"}
    good["messages"] = [_message(1, photo="photos/good.jpg")]
    _write(folder, {"chats": {"list": [bad, good]}, "left_chats": {"list": 5}})
    return folder


@pytest.mark.parametrize(
    ("bad", "label", "message"),
    [
        (
            {"name": ["a", "list"], "id": 1, "messages": []},
            "DataExport/result.json chats entry 1",
            "'name' is a list, expected text",
        ),
        (
            {"name": "Bad", "messages": [_message(12, photo="photos/good.jpg", forwarded_from=[])]},
            "DataExport/result.json chat Bad message #12",
            "'forwarded_from' is a list, expected text",
        ),
        (
            {"name": "Bad", "messages": [_message([12], photo="photos/good.jpg")]},
            "DataExport/result.json chat Bad message 1 in the list",
            "'id' is a list, expected a whole number",
        ),
        (
            {"name": "Bad", "messages": [_message(12, photo="photos/a\x00.jpg")]},
            "DataExport/Bad #12 (photos/a\\x00.jpg)",
            "the media path holds a NUL character",
        ),
        (
            {"name": "Bad", "messages": [_message(12, photo="photos/" + "n" * 300 + ".jpg")]},
            f"DataExport/Bad #12 (photos/{'n' * 52}…{'n' * 16}.jpg)",
            f"cannot resolve media path 'photos/{'n' * 52}…{'n' * 16}.jpg' (File name too long)",
        ),
        (
            {"name": "Bad", "messages": [_message(12, photo="photos/good.jpg", views=10**30)]},
            "DataExport/Bad #12 (photos/good.jpg)",
            "views is 1000000000000000000000000000000, expected a count",
        ),
    ],
)
def test_a_bad_chat_or_message_is_one_failure_and_the_rest_is_read(
    tmp_path: Path, store: Store, bad: dict[str, Any], label: str, message: str
) -> None:
    folder = _with_one_good_chat(bad, tmp_path)

    summary = Ingest(store).run(collect_export(folder, Sighting(method="file")))

    failed = {r.label: r.message for r in summary.results if r.outcome is Outcome.FAILED}
    assert failed == {
        label: message,
        "DataExport/result.json": "left_chats: 'list' is a whole number, expected a list",
    }
    assert [r.label for r in summary.results if r.outcome is Outcome.PRESERVED] == [
        "DataExport/Good #1 (photos/good.jpg)"
    ]
    assert _count(store, Capture) == 1
