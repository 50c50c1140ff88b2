"""Analyses: on-screen text tracked over time, languages, search, custody and failures."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import update

from testament.enrich.models import Analysis
from testament.enrich.ocr import (
    DEFAULT_LANGS,
    Line,
    OnScreenText,
    package,
    track,
    watermark_channel,
)
from testament.store import Store
from tests.media import make_corrupt_video, scene_frame, write_frames
from tests.system import need

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
CHYRON = "5-ci mexanikləşdirilmiş briqada"
WATERMARK = "@frontline_news"
RUSSIAN = "Москва сегодня вечером"


def _need_ocr() -> None:
    need(FONT.exists(), f"{FONT} not found; install it with: apt-get install fonts-dejavu-core")
    need(
        OnScreenText().missing() is None,
        f"{OnScreenText().missing()}; install: apt-get install tesseract-ocr "
        + " ".join(package(lang) for lang in DEFAULT_LANGS.split("+")),
    )


def _overlay(picture: np.ndarray, texts: list[tuple[str, tuple[int, int], int]]) -> np.ndarray:
    """Burned-in text as broadcasters put it: a dark band behind, or an outline."""
    image = Image.fromarray(picture)
    draw = ImageDraw.Draw(image)
    for text, (x, y), size in texts:
        font = ImageFont.truetype(str(FONT), size)
        if y > image.height // 2:
            draw.rectangle((0, y - 6, image.width, y + size + 10), fill=(20, 24, 90))
            draw.text((x, y), text, font=font, fill="white")
        else:
            draw.text((x, y), text, font=font, fill="white", stroke_width=2, stroke_fill="black")
    return np.asarray(image)


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A news clip (chyron and channel watermark for 4 s), a still with Russian, a broken
    video, and a still posted by the channel the watermark names."""
    _need_ocr()
    folder = tmp_path_factory.mktemp("enrich-media")
    clip = folder / "clip"
    clip.mkdir()
    frames = (
        _overlay(
            scene_frame(5, t / 5, 640, 360),
            [(CHYRON, (16, 306), 26), (WATERMARK, (440, 12), 22)],
        )
        for t in range(20)
    )
    write_frames(clip / "news.mp4", frames, fps=5)
    still = _overlay(scene_frame(9, 0.0, 640, 360), [(RUSSIAN, (16, 300), 28)])
    Image.fromarray(still).save(clip / "still.jpg", quality=85)
    make_corrupt_video(clip / "broken.mp4")
    channel = folder / "channel"
    channel.mkdir()
    Image.fromarray(scene_frame(11, 0.0, 320, 180)).save(channel / "post.jpg")
    return folder


def _show(cli, sha256: str) -> dict:
    shown = cli("show", sha256, "--json")
    assert shown.exit_code == 0, shown.output
    return json.loads(shown.stdout)


def _assets(cli) -> dict[str, str]:
    listed = cli("assets", "--json")
    return {a["original_filename"]: a["sha256"] for a in json.loads(listed.stdout)}


@pytest.fixture
def analysed(cli, store: Store, media: Path) -> dict[str, str]:
    ingested = cli("ingest", str(media / "clip"))
    assert ingested.exit_code == 0, ingested.output
    posted = cli("ingest", str(media / "channel"), "--platform", "telegram")
    assert posted.exit_code == 0
    ran = cli("analyse")
    assert ran.exit_code == 0, ran.output
    return _assets(cli)


def test_text_on_screen_is_one_record_per_region_with_time_box_and_watermark(
    cli, analysed: dict[str, str]
) -> None:
    record = _show(cli, analysed["news.mp4"])
    (ocr,) = [a for a in record["analyses"] if a["analyser"] == "ocr"]
    assert ocr["status"] == "ok" and ocr["tool"] == "tesseract" and ocr["model"] == DEFAULT_LANGS
    regions = ocr["result"]["regions"]
    chyron = [r for r in regions if "briqada" in r["text"]]
    assert len(chyron) == 1, regions  # one region over the 4 s, not one per keyframe
    assert chyron[0]["start"] == 0.0 and chyron[0]["end"] == 4.0 and chyron[0]["frames"] == 4
    assert chyron[0]["box"][1] > 0.75 and chyron[0]["kind"] == "text"
    marks = [r for r in regions if r["kind"] == "watermark"]
    assert len(marks) == 1, regions
    (mark,) = marks
    assert mark["channel"].casefold() == "frontline_news"
    assert mark["box"][0] > 0.6 and mark["box"][1] < 0.15
    (language,) = [a for a in record["analyses"] if a["analyser"] == "language"]
    found = {item["text"]: item for item in language["result"]["texts"]}
    assert found[chyron[0]["text"]]["language"] == "az"
    events = [e for e in record["custody"] if e["action"] == "analysed"]
    assert {e["details"]["analyser"] for e in events} == {"ocr", "language"}
    assert all(e["details"]["analysis_id"] for e in events)
    text = cli("show", analysed["news.mp4"]).stdout
    assert "analyses (2)" in text and "briqada" in text and "watermark @" in text


def test_a_failure_is_recorded_and_shown_and_the_others_run(cli, analysed: dict[str, str]) -> None:
    broken = _show(cli, analysed["broken.mp4"])
    (ocr,) = [a for a in broken["analyses"] if a["analyser"] == "ocr"]
    assert ocr["status"] == "failed" and "cannot open" in ocr["error"]
    assert "failed:" in cli("show", analysed["broken.mp4"]).stdout
    still = _show(cli, analysed["still.jpg"])
    (ocr,) = [a for a in still["analyses"] if a["analyser"] == "ocr"]
    assert ocr["status"] == "ok"
    assert any("Москва" in r["text"] for r in ocr["result"]["regions"]), ocr["result"]
    assert cli("verify").exit_code == 0


def test_search_finds_on_screen_words_in_any_script_and_case(cli, analysed: dict[str, str]) -> None:
    found = json.loads(cli("search", "5-ci", "--json").stdout)
    assert [hit["sha256"] for hit in found] == [analysed["news.mp4"]]
    found = json.loads(cli("search", "МОСКВА", "--json").stdout)
    assert [hit["sha256"] for hit in found] == [analysed["still.jpg"]]
    assert "0 matches" in cli("search", "nowhere-to-be-seen").stdout


def test_a_watermark_links_to_the_captures_of_the_channel_it_names(
    cli, media: Path, analysed: dict[str, str]
) -> None:
    again = cli(
        "ingest", str(media / "channel"), "--platform", "telegram", "--channel", "frontline_news"
    )
    assert again.exit_code == 0, again.output
    record = _show(cli, analysed["news.mp4"])
    (ocr,) = [a for a in record["analyses"] if a["analyser"] == "ocr"]
    (mark,) = [r for r in ocr["result"]["regions"] if r["kind"] == "watermark"]
    post = _show(cli, analysed["post.jpg"])
    channel_ids = [c["id"] for c in post["captures"] if c["channel"] == "frontline_news"]
    assert mark["channel_captures"] == channel_ids and channel_ids


def test_verify_holds_each_analysis_to_its_signed_event(
    cli, store: Store, analysed: dict[str, str]
) -> None:
    with store.write() as session:
        session.execute(
            update(Analysis).where(Analysis.analyser == "ocr").values(search_text="forged")
        )
    checked = cli("verify")
    assert checked.exit_code != 0
    assert "search_sha256 in the catalog differs from its signed 'analysed' event" in checked.output


def test_a_newer_version_adds_a_record_and_keeps_the_old(
    cli, analysed: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    again = cli("analyse", analysed["still.jpg"][:10], "--only", "ocr")
    assert "already analysed with this version" in again.stdout
    monkeypatch.setattr(OnScreenText, "version", lambda self: "99.0")
    newer = cli("analyse", analysed["still.jpg"][:10], "--only", "ocr")
    assert "ocr: ok" in newer.stdout, newer.output
    rows = [a for a in _show(cli, analysed["still.jpg"])["analyses"] if a["analyser"] == "ocr"]
    assert len(rows) == 2 and rows[1]["version"] == "99.0" and rows[0]["version"] != "99.0"
    assert cli("verify").exit_code == 0


def test_a_missing_analyser_is_one_line_and_the_rest_carry_on(
    cli, store: Store, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("ingest", str(media / "clip" / "still.jpg")).exit_code == 0
    monkeypatch.setenv("TESTAMENT_OCR_LANGUAGES", "eng+xyz")
    ran = cli("analyse")
    assert ran.exit_code == 0
    assert "skipped ocr: Tesseract lacks language data xyz" in ran.stderr
    assert "language: ok" in ran.stdout and "ocr: ok" not in ran.stdout
    bad = cli("analyse", "--only", "ocr,colour")
    assert bad.exit_code == 2 and "unknown analyser colour" in bad.stderr


def test_ingest_runs_the_analysers_configured(
    cli, store: Store, media: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESTAMENT_ANALYSE_AT_INGEST", "ocr")
    assert cli("ingest", str(media / "clip" / "still.jpg")).exit_code == 0
    (sha256,) = _assets(cli).values()
    (ocr,) = _show(cli, sha256)["analyses"]
    assert ocr["analyser"] == "ocr" and ocr["status"] == "ok"


def test_regions_are_tracked_by_place_and_words() -> None:
    chyron = Line("5-ci briqada", (0.0, 0.85, 0.6, 0.07), 90.0)
    misread = Line("5-ci briqoda", (0.0, 0.851, 0.6, 0.07), 80.0)
    other = Line("Xəbərlər", (0.0, 0.85, 0.6, 0.07), 90.0)
    regions = track([(0.0, [chyron]), (1.0, [misread]), (2.0, [chyron]), (3.0, [other])], 1.0)
    assert [(r.text, r.start, r.end, len(r.readings)) for r in regions] == [
        ("5-ci briqada", 0.0, 3.0, 3),
        ("Xəbərlər", 3.0, 4.0, 1),
    ]
    assert watermark_channel("t.me/some_channel", (0.8, 0.9, 0.15, 0.05)) == "some_channel"
    assert watermark_channel("@some_channel", (0.4, 0.45, 0.2, 0.05)) is None  # mid-frame


def test_the_model_matches_migration_0010(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from testament.catalog import schema

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), schema.Base.metadata)
    assert not [entry for entry in diff if "analyses" in repr(entry)], diff


def test_the_asset_page_shows_what_was_read(store: Store, analysed: dict[str, str]) -> None:
    from tests.web_support import client, login, make_user

    make_user(store, "reader", "viewer")
    browser = client(store)
    login(browser, "reader")
    page = browser.get(f"/assets/{analysed['news.mp4']}")
    assert page.status_code == 200
    assert "What it shows and says" in page.text
    assert "briqada" in page.text and "watermark @frontline_news" in page.text
    assert "Azerbaijani" in page.text
    broken = browser.get(f"/assets/{analysed['broken.mp4']}")
    assert "failed: AnalysisError" in broken.text
