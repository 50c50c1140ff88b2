"""Footage matching inside the store: fingerprints at ingest, links, groups, `match`, the index."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from testament.catalog.models import FingerprintRecord, FootageLink
from testament.collect.files import collect_path
from testament.collect.ingest import Ingest
from testament.collect.items import Sighting
from testament.demo import write_still, write_video
from testament.footage.groups import footage_groups
from testament.store import Store
from tests.media import make_room_video


@pytest.fixture
def case(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "case"
    folder.mkdir()
    return {
        "original": write_video(folder / "original.mp4", seed=5, seconds=6, width=320, height=180),
        "reupload": write_video(
            folder / "reupload.mp4", seed=5, seconds=6, width=240, height=136, crf=36
        ),
        "still": write_still(folder / "still.jpg", seed=5, t=2.5, width=320, height=180),
        "other": write_video(folder / "other.mp4", seed=99, seconds=4, width=320, height=180),
    }


def _ingest(store: Store, path: Path, posted: datetime | None = None) -> str:
    summary = Ingest(store).run(collect_path(path, Sighting(method="file", posted_at=posted)))
    (result,) = summary.results
    assert result.sha256 is not None
    return result.sha256


def test_ingest_fingerprints_links_and_groups(store: Store, case: dict[str, Path]) -> None:
    original = _ingest(store, case["original"], datetime(2020, 12, 10, tzinfo=UTC))
    reupload = _ingest(store, case["reupload"], datetime(2020, 12, 12, tzinfo=UTC))
    still = _ingest(store, case["still"], datetime(2020, 12, 11, tzinfo=UTC))
    _ingest(store, case["other"])
    with store.read() as session:
        assert session.execute(select(func.count()).select_from(FingerprintRecord)).scalar() == 4
        (group,) = footage_groups(session)
        record = group.as_dict()
    assert {m["sha256"] for m in record["members"]} == {original, reupload, still}
    assert record["earliest_capture"]["sha256"] == original
    relations = {(link["a"], link["b"]): link for link in record["links"]}
    assert relations[(reupload, original)]["relation"] == "same_footage"
    assert abs(relations[(reupload, original)]["offset"]) < 0.5
    assert relations[(still, original)]["relation"] == "still_from"
    assert abs(relations[(still, original)]["asset_time"] - 2.5) < 0.5


def test_a_still_ingested_before_its_video_keeps_its_second(store: Store, case) -> None:
    """Links do not depend on the order of ingest: the still is placed in the later video."""
    still = _ingest(store, case["still"])
    original = _ingest(store, case["original"])
    with store.read() as session:
        (group,) = footage_groups(session)
        (link,) = group.as_dict()["links"]
    assert (link["a"], link["relation"], link["b"]) == (still, "still_from", original)
    assert abs(link["asset_time"] - 2.5) < 0.5


def test_fingerprinting_is_on_the_custody_record(store: Store, case: dict[str, Path]) -> None:
    from testament.locker.custody import iter_events

    sha = _ingest(store, case["original"])
    with store.read() as session:
        actions = [e.action for e in iter_events(session, f"asset:{sha}")]
    # Then the previews made at ingest: a thumbnail and six keyframes.
    assert actions == ["stored", "probed", "collected", "fingerprinted"] + ["derived"] * 7


def test_match_command_json_shape(cli, store: Store, case: dict[str, Path], tmp_path: Path) -> None:
    original = _ingest(store, case["original"])
    result = cli("match", str(case["still"]), "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["query"]["kind"] == "image" and body["query"]["duration"] is None
    (found,) = body["matches"]
    assert found["sha256"] == original and found["relation"] == "still_from"
    assert abs(found["asset_time"] - 2.5) < 0.5
    assert set(found) >= {
        "sha256",
        "filename",
        "relation",
        "score",
        "query_coverage",
        "asset_coverage",
        "offset",
        "asset_time",
        "asset_times",
        "segments",
    }
    assert found["asset_times"] and found["asset_times"][0][0] <= found["asset_time"]
    again = json.loads(cli("match", str(case["original"]), "--json").stdout)
    assert again["matches"][0]["relation"] == "identical"
    none = json.loads(cli("match", str(case["other"]), "--json").stdout)
    assert none["matches"] == []


def test_match_refuses_undecodable_file_in_one_line(cli, store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    result = cli("match", str(bad))
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and str(bad) in result.stderr


def test_index_is_rebuilt_and_catches_up(cli, store: Store, case: dict[str, Path]) -> None:
    original = _ingest(store, case["original"])
    shutil.rmtree(store.settings.index_dir)  # a lost cache is rebuilt from the catalog
    reupload = _ingest(store, case["reupload"])
    with store.read() as session:
        link = session.execute(select(FootageLink)).scalar_one()
    assert link.relation == "same_footage"
    rebuilt = cli("index", "rebuild")
    assert rebuilt.exit_code == 0 and "frame hashes" in rebuilt.stdout
    body = json.loads(cli("match", str(case["reupload"]), "--json").stdout)
    assert [m["sha256"] for m in body["matches"]] == [reupload, original]


def test_footage_command_lists_groups(cli, store: Store, case: dict[str, Path]) -> None:
    original = _ingest(store, case["original"], datetime(2020, 12, 10, tzinfo=UTC))
    _ingest(store, case["reupload"])
    text = cli("footage").stdout
    assert "earliest" in text and original[:12] in text and "same footage" in text
    body = json.loads(cli("footage", original[:8], "--json").stdout)
    assert len(body) == 1 and len(body[0]["members"]) == 2
    assert "no footage groups" in cli("footage", _ingest(store, case["other"])[:8]).stdout


def test_show_lists_takes_of_the_same_place_apart_from_the_footage(
    cli, store: Store, tmp_path: Path
) -> None:
    """Two takes of one room by one camera: `show` names the other as the same place."""
    first = _ingest(store, make_room_video(tmp_path / "take1.mp4", room=3, take=1))
    second = _ingest(store, make_room_video(tmp_path / "take2.mp4", room=3, take=2))
    shown = json.loads(cli("show", second[:8], "--json").stdout)
    assert shown["footage"] is None  # another take is never the same footage
    assert [other["sha256"] for other in shown["same_scene"]] == [first]
    assert json.loads(cli("show", first[:8], "--json").stdout)["same_scene"][0]["sha256"] == second
    text = cli("show", first[:8]).stdout
    assert "same place" in text and second[:12] in text


def test_a_still_of_another_take_is_never_linked_as_the_footage(
    cli, store: Store, tmp_path: Path
) -> None:
    """Ingest and `match` re-check a still on the stored video's frame, decoded from its blob."""
    from PIL import Image

    from tests.media import room_frame

    video = _ingest(store, make_room_video(tmp_path / "take1.mp4", room=3, take=1))
    Image.fromarray(room_frame(3, 2, 0.4, 640, 480)).save(tmp_path / "other.jpg", quality=70)
    Image.fromarray(room_frame(3, 1, 1.3, 640, 480)).save(tmp_path / "own.jpg", quality=70)
    other = _ingest(store, tmp_path / "other.jpg")
    with store.read() as session:
        links = {link.asset_a_id: link.relation for link in session.scalars(select(FootageLink))}
    # The other take is at most the place (PDQ alone may not even find it: 68 bits off).
    assert set(links.values()) <= {"same_scene"}
    answer = json.loads(cli("match", str(tmp_path / "own.jpg"), "--json").stdout)
    assert [(m["sha256"], m["relation"]) for m in answer["matches"]] == [(video, "still_from")]
    assert other != video
