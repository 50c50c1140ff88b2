"""Tables: CSV that spreadsheets open cleanly, JSON, GeoJSON, and the incidents round trip."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from testament.actors import attributions
from testament.investigate.models import Incident
from testament.store import Store
from tests import web_support as ws
from tests.test_report_packages import make_incident


def _incidents(store: Store) -> list[Incident]:
    with store.read() as session:
        found = session.query(Incident).order_by(Incident.id).all()
        for incident in found:
            _ = incident.assets, incident.victims, incident.violations
        return found


def _attributed(store: Store, incident: Incident) -> list[tuple]:
    with store.read() as session:
        return [
            (a.actor.name, a.role, a.confidence, a.status, [b.kind for b in a.bases])
            for a in attributions.for_incident(session, incident.id)
        ]


def test_export_formats(cli, store: Store, tmp_path: Path) -> None:
    make_incident(store, tmp_path)
    out = tmp_path / "incidents.csv"
    result = cli("export", "table", "incidents", "--format", "csv", "--bom", "--out", str(out))
    assert result.exit_code == 0, result.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0]["event_time"] == "2020-12-09T10:00:00Z"
    assert rows[0]["violations"] == "extrajudicial-execution"
    attributed = json.loads(rows[0]["attributions"])[0]
    assert (attributed["actor"], attributed["confidence"]) == ("Party A", "unverified")
    assert [b["kind"] for b in attributed["bases"]] == ["uniform"]
    captures = cli("export", "table", "captures", "--format", "csv")
    text = captures.stdout
    assert not text.startswith("\ufeff")
    row = next(r for r in csv.DictReader(text.splitlines()) if r["channel"] == ws.HOSTILE)
    assert row["posted_at"] == "2020-12-10T09:30:00Z"
    geo = json.loads(cli("export", "table", "incidents", "--format", "geojson").stdout)
    assert geo["features"][0]["geometry"] == {"type": "Point", "coordinates": [46.75, 39.8]}
    assets = json.loads(cli("export", "table", "assets", "--format", "json").stdout)
    assert {a["media_type"] for a in assets} == {"video", "image"}
    bad = cli("export", "table", "assets", "--format", "geojson")
    assert bad.exit_code == 2 and "GeoJSON is for incidents" in bad.output


def test_formula_cells_are_defused_and_restored(cli, store: Store, tmp_path: Path) -> None:
    make_incident(store, tmp_path)
    out = tmp_path / "incidents.csv"
    cli("export", "table", "incidents", "--out", str(out))
    rows = list(csv.DictReader(out.read_text(encoding="utf-8").splitlines()))
    rows[0]["title"] = '=HYPERLINK("http://x")'
    rows[0]["summary"] = "'=1+1"
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = cli("import", "table", str(out), "--as", "ana")
    assert result.exit_code == 0, result.output
    again = cli("export", "table", "incidents", "--format", "csv").stdout
    last = list(csv.DictReader(again.splitlines()))[-1]
    assert last["title"] == '\'=HYPERLINK("http://x")'
    assert _incidents(store)[-1].summary == "=1+1"


def test_round_trip_and_bad_rows(cli, store: Store, tmp_path: Path) -> None:
    make_incident(store, tmp_path)
    out = tmp_path / "incidents.csv"
    assert cli("export", "table", "incidents", "--bom", "--out", str(out)).exit_code == 0
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    header, good = lines[0], lines[1]
    cols = header.split(",")
    bad_lat = dict(zip(cols, next(csv.reader([good])), strict=True)) | {"latitude": "95"}
    bad_type = dict(bad_lat) | {"latitude": "39.8", "violations": "no-such-type"}
    bad_asset = dict(bad_type) | {"violations": "", "assets": "ab" * 32}
    nobody = [{"actor_id": 999, "role": "unit responsible", "confidence": "possible"}]
    bad_actor = dict(bad_asset) | {"assets": "", "attributions": json.dumps(nobody)}
    with out.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=cols, lineterminator="\r\n")
        for row in (bad_lat, bad_type, bad_asset, bad_actor):
            writer.writerow(row)
    result = cli("import", "table", str(out), "--as", "ana")
    assert result.exit_code == 1
    assert "incidents.csv:3: latitude: Input should be less than or equal to 90" in result.output
    assert "incidents.csv:4: unknown violation type: no-such-type" in result.output
    assert f"incidents.csv:5: assets: no asset {'ab' * 32}" in result.output
    assert "incidents.csv:6: attributions 1: no actor 999" in result.output
    assert "1 incident imported, 4 bad rows" in result.output
    first, copy = _incidents(store)
    assert len(_incidents(store)) == 2
    assert copy.status == "new" and copy.title == first.title
    assert len(_incidents(store)) == 2  # the bad rows left no incident behind
    assert _attributed(store, copy) == [
        ("Party A", "unit responsible", "unverified", "proposed", ["uniform"])
    ]
    old = tmp_path / "old.csv"
    old.write_text('title,perpetrators\nt,"[{""party"": ""A""}]"\n', encoding="utf-8")
    retired = cli("import", "table", str(old), "--as", "ana")
    assert "old.csv:2: perpetrators: free-text perpetrators are retired" in retired.output
    assert [v.count for v in copy.victims] == [2]
    assert copy.event_time == first.event_time
    assert {a.asset_id for a in copy.assets} == {a.asset_id for a in first.assets}
    missing = cli("import", "table", str(tmp_path / "nope.csv"), "--as", "ana")
    assert missing.exit_code == 2 and "nope.csv: cannot read" in missing.output
