"""Analyses where investigators use them: search (each database's full-text engine), the
library's filters, incident reports and evidence packages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import delete, select, update

from testament.accounts.models import User
from testament.catalog.models import Asset, Capture
from testament.enrich.analyser import Found
from testament.enrich.language import Languages
from testament.enrich.models import AnalysisText
from testament.enrich.run import Runner
from testament.enrich.text_index import server_configs
from testament.investigate import incidents as logic
from testament.investigate import taxonomy
from testament.investigate.fields import IncidentFields
from testament.report.document import to_html
from testament.report.incident_report import incident_document
from testament.report.packages import build_package
from testament.report.verify_package import verify_package
from testament.store import Store
from tests import web_support as ws

TEXTS = {
    "a.png": ["5-ci mexanikləşdirilmiş briqada", "Москва сегодня вечером"],
    "b.png": ["ci 5 briqada", "Հայաստանի Հանրապետության պաշտպանության նախարարություն"],
}
POST = "Обстрел села продолжался всю ночь, жители укрылись в подвалах"


class Written:
    """On-screen text given by the test, recorded as an OCR result is (regions of text)."""

    name = "ocr"
    tool = "test text"

    def version(self) -> str:
        return "1"

    def model(self) -> str | None:
        return None

    def missing(self) -> str | None:
        return None

    def applies(self, asset: Asset) -> bool:
        return True

    def analyse(self, asset: Asset, path: Path, session: Any) -> Found:
        lines = TEXTS[asset.original_filename]
        regions = [
            {"text": line, "start": float(i), "end": i + 1.0} for i, line in enumerate(lines)
        ]
        return Found({"regions": regions}, "\n".join(lines))

    def summary(self, result: dict[str, Any]) -> str:
        return f"{len(result['regions'])} regions"


@pytest.fixture
def indexed(cli, store: Store, tmp_path: Path) -> dict[str, str]:
    folder = tmp_path / "media"
    folder.mkdir()
    for index, name in enumerate(TEXTS):
        Image.new("RGB", (32, 24), (40 * index, 90, 120)).save(folder / name)
    assert cli("ingest", str(folder)).exit_code == 0
    with store.write() as session:
        first = session.execute(
            select(Asset).where(Asset.original_filename == "a.png")
        ).scalar_one()
        session.execute(update(Capture).where(Capture.asset_id == first.id).values(post_text=POST))
    runner = Runner(store, [Written(), Languages()])
    with store.read() as session:
        assets = list(session.execute(select(Asset)).scalars())
    for asset in assets:
        assert {o.status for o in runner.run(asset)} == {"ok"}
    return {a.original_filename: a.sha256 for a in assets}


def _found(cli, words: str) -> list[dict]:
    done = cli("search", words, "--json")
    assert done.exit_code == 0, done.output
    return json.loads(done.stdout)


def test_each_text_is_indexed_in_its_language(store: Store, indexed: dict[str, str]) -> None:
    with store.read() as session:
        rows = session.execute(select(AnalysisText)).scalars().all()
    by_language = {(r.source, r.language): r.config for r in rows}
    assert by_language[("ocr", "ru")] == "russian" and by_language[("post", "ru")] == "russian"
    assert by_language[("ocr", "az")] == "simple"
    with store.read() as session:
        armenian = "armenian" if "armenian" in server_configs(session) else "simple"
    assert by_language[("ocr", "hy")] == armenian


def test_a_hyphenated_ordinal_is_one_phrase(cli, indexed: dict[str, str]) -> None:
    hits = _found(cli, "5-ci")
    assert [(h["sha256"], h["source"], h["language"]) for h in hits] == [
        (indexed["a.png"], "ocr", "az")
    ]
    assert "5-ci mexanikləşdirilmiş" in hits[0]["snippet"]
    both = {h["sha256"] for h in _found(cli, "briqada")}
    assert both == set(indexed.values())


def test_any_script_and_case_and_post_texts(cli, indexed: dict[str, str]) -> None:
    assert [h["sha256"] for h in _found(cli, "МОСКВА")] == [indexed["a.png"]]
    assert [h["sha256"] for h in _found(cli, "Հայաստանի")] == [indexed["b.png"]]
    (post,) = _found(cli, "подвал")  # a prefix
    assert post["source"] == "post" and post["capture_id"] and post["language"] == "ru"
    assert "post text of capture" in cli("search", "подвал").stdout
    assert _found(cli, "Москва nowhere") == []
    assert _found(cli, "!! ??") == []


def test_stemming_where_the_database_has_it(cli, store: Store, indexed: dict[str, str]) -> None:
    inflected = [h["sha256"] for h in _found(cli, "Москвы")]
    unaccented = [h["sha256"] for h in _found(cli, "mexanikləsdirilmis")]
    if store.engine.dialect.name == "postgresql":
        assert inflected == [indexed["a.png"]]  # Russian stemming: Москвы, Москва
        assert unaccented == []  # 'simple' keeps ş
    else:
        assert inflected == []  # FTS5 does not stem
        assert unaccented == [indexed["a.png"]]  # unicode61 removes the cedilla


def test_the_model_matches_migration_0013(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from testament.catalog import schema

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), schema.Base.metadata)
    # The full-text indexes (FTS5 table, expression indexes) are the migration's alone.
    full_text = ("_fts", "_textual_index_element")
    mine = [e for e in diff if "analysis_texts" in repr(e)]
    assert not [e for e in mine if not any(f in repr(e) for f in full_text)], diff


def test_the_library_filters_by_language_and_on_screen_text(
    store: Store, indexed: dict[str, str]
) -> None:
    from tests.web_support import client, login, make_user

    make_user(store, "reader", "viewer")
    browser = client(store)
    login(browser, "reader")
    page = browser.get("/library", params={"language": "ru", "view": "table"})
    assert page.status_code == 200
    assert indexed["a.png"][:12] in page.text and indexed["b.png"][:12] not in page.text
    assert '<option value="hy"' in page.text and ">Armenian<" in page.text
    armenian = browser.get("/library", params={"language": "hy", "view": "table"}).text
    assert indexed["b.png"][:12] in armenian and indexed["a.png"][:12] not in armenian
    listed = browser.get("/api/assets", params={"language": "ru"}).json()
    assert {a["sha256"] for a in listed} == {indexed["a.png"]}
    with_text = browser.get("/api/assets", params={"has_text": "true"}).json()
    assert {a["sha256"] for a in with_text} == set(indexed.values())
    assert browser.get("/api/assets", params={"language": "de"}).json() == []
    with store.write() as session:
        session.execute(delete(AnalysisText).where(AnalysisText.source == "ocr"))
    assert browser.get("/api/assets", params={"has_text": "true"}).json() == []


def _incident(store: Store, sha256: str) -> int:
    user_id = ws.make_user(store, "ana", "investigator")
    with store.write() as session:
        taxonomy.ensure_defaults(session)
    with store.write() as session:
        user = session.get(User, user_id)
        fields = IncidentFields(
            title="Shelling", summary="Houses hit.", violations=["extrajudicial-execution"]
        )
        incident = logic.create(session, user, fields)
        asset = session.execute(select(Asset).where(Asset.sha256 == sha256)).scalar_one()
        logic.link_asset(session, user, incident, asset)
        return incident.id


def test_reports_and_packages_carry_the_analyses_they_rely_on(
    store: Store, indexed: dict[str, str], tmp_path: Path
) -> None:
    # b.png: a.png's post text was set after its signed capture, which a package names.
    incident_id = _incident(store, indexed["b.png"])
    page = to_html(incident_document(store, incident_id))
    assert "On-screen text (test text 1; " in page and "0–1 s: “ci 5 briqada”" in page
    assert "Languages (lingua-language-detector" in page and "Armenian (" in page
    with store.read() as session:
        asset_id = session.execute(select(Asset.id).where(Asset.sha256 == indexed["b.png"]))
        asset_ids = list(asset_id.scalars())
    out = tmp_path / "package"
    build_package(store, asset_ids, out, incident_id=incident_id)
    checked = verify_package(out)
    assert checked.intact, checked.problems
    assert checked.analyses == 2
    records = sorted((out / "data/records/analyses" / indexed["b.png"]).glob("*.json"))
    first = json.loads(records[0].read_text(encoding="utf-8"))
    assert first["tool"] == "test text" and first["version"] == "1" and first["result"]
    first["result"]["regions"][0]["text"] = "6-cı briqada"
    records[0].write_text(json.dumps(first), encoding="utf-8")
    records[1].unlink()
    problems = verify_package(out).problems
    assert any("result differs from the signed 'analysed' event" in p for p in problems)
    assert any(f"{records[1].name}: missing; signed in 'analysed' event" in p for p in problems)


class Transcribed(Written):
    """A transcript given by the test, recorded as speech records one (segments, language)."""

    name = "speech"

    def analyse(self, asset: Asset, path: Path, session: Any) -> Found:
        segments = [{"start": 2.7, "end": 6.5, "text": "Обстрел продолжался"}]
        result = {"language": "ru", "segments": segments, "text": segments[0]["text"]}
        return Found(result, result["text"])

    def summary(self, result: dict[str, Any]) -> str:
        return f"{len(result['segments'])} segment"


def test_a_transcript_is_searched_in_its_spoken_language_and_reported_with_times(
    cli, store: Store, indexed: dict[str, str]
) -> None:
    from testament.report.analyses import report_lines

    with store.read() as session:
        asset = session.execute(select(Asset).where(Asset.sha256 == indexed["b.png"])).scalar_one()
    assert [o.status for o in Runner(store, [Transcribed()]).run(asset)] == ["ok"]
    (hit,) = [h for h in _found(cli, "обстрел") if h["source"] == "speech"]
    assert hit["sha256"] == indexed["b.png"] and hit["language"] == "ru"
    with store.read() as session:
        lines = report_lines(session, session.get(Asset, asset.id), with_faces=False)
    assert "  3–6 s: “Обстрел продолжался”" in lines
    assert any(line.startswith("Transcript (test text 1; ") for line in lines)


def test_the_assets_command_filters_by_language_and_on_screen_text(
    cli, store: Store, indexed: dict[str, str]
) -> None:
    def listed(*options: str) -> set[str]:
        done = cli("assets", "--json", *options)
        assert done.exit_code == 0, done.output
        return {a["sha256"] for a in json.loads(done.stdout)}

    assert listed("--language", "RU") == {indexed["a.png"]}
    assert listed("--language", "hy", "--has-text") == {indexed["b.png"]}
    assert listed("--language", "de") == set()
    assert listed("--has-text", "--type", "image") == set(indexed.values())
    with store.write() as session:
        session.execute(delete(AnalysisText).where(AnalysisText.source == "ocr"))
    assert listed("--has-text") == set()
    assert listed("--language", "ru") == {indexed["a.png"]}  # the post text is still Russian
    table = cli("assets", "--language", "ru").stdout
    assert indexed["a.png"][:12] in table and indexed["b.png"][:12] not in table
