"""Tables of actors, attributions and accountability events: exported, and read back row by row."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from testament.accounts.models import User
from testament.investigate import incidents
from testament.investigate.fields import IncidentFields
from tests import web_support as ws


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_import_table_on_a_fresh_store_knows_the_default_taxonomy(
    store, cli, tmp_path: Path
) -> None:
    """Before, every violation was unknown until the workbench had once created the taxonomy."""
    ws.make_user(store, "inv", "investigator")
    table = _write(tmp_path / "incidents.csv", [{"title": "t", "violations": "wilful-killing"}])
    done = cli("import", "table", str(table), "--as", "inv")
    assert done.exit_code == 0, done.stderr
    assert "1 incident imported, 0 bad rows" in done.stdout


def test_actor_tables_round_trip_with_per_row_errors(store, cli, tmp_path: Path) -> None:
    ws.make_user(store, "inv", "investigator")
    sha = ws.small_video(store, tmp_path)
    with store.write() as session:
        incident = incidents.create(
            session, session.get(User, 1), IncidentFields(title="t", latitude=40.0, longitude=46.9)
        ).id
    actors_csv = _write(
        tmp_path / "actors.csv",
        [
            {"kind": "force", "name": "Armed forces", "party": "A", "parent_id": "", "aliases": ""},
            {
                "kind": "unit",
                "name": "3rd company",
                "party": "A",
                "parent_id": "1",
                "aliases": json.dumps([{"name": "3-я рота", "language": "ru"}]),
            },
            {"kind": "unit", "name": "Orphan", "party": "A", "parent_id": "77", "aliases": ""},
            {"kind": "squad", "name": "x", "party": "", "parent_id": "", "aliases": ""},
        ],
    )
    done = cli("import", "table", "actors", str(actors_csv), "--as", "inv")
    assert done.exit_code == 1
    assert "2 actors imported, 2 bad rows" in done.stdout
    assert "actors.csv:4: no actor 77 to be the parent" in done.stderr
    assert "actors.csv:5: unknown actor kind 'squad'" in done.stderr
    basis = json.dumps([{"kind": "insignia", "sha256": sha, "start": 1.0, "end": 2.0}])
    attributions_csv = _write(
        tmp_path / "attributions.csv",
        [
            {
                "incident_id": str(incident),
                "actor_id": "2",
                "role": "unit responsible",
                "confidence": "probable",
                "status": "confirmed",
                "bases": basis,
            },
            {
                "incident_id": str(incident),
                "actor_id": "2",
                "role": "present",
                "confidence": "possible",
                "status": "",
                "bases": json.dumps([{"kind": "uniform", "sha256": "ffff0000"}]),
            },
        ],
    )
    done = cli("import", "table", "attributions", str(attributions_csv), "--as", "inv")
    assert "1 attribution imported, 1 bad row" in done.stdout
    assert (
        "attributions.csv:3: basis uniform: no asset with sha256 starting ffff0000" in done.stderr
    )
    events_csv = _write(
        tmp_path / "events.csv",
        [
            {
                "kind": "charged",
                "day": "2021-03-01",
                "authority": "Prosecutor",
                "source_sha256": sha,
                "incident_id": str(incident),
                "actor_id": "",
            },
            {
                "kind": "charged",
                "day": "2999-03-01",
                "authority": "Prosecutor",
                "source_sha256": sha,
                "incident_id": str(incident),
                "actor_id": "",
            },
        ],
    )
    done = cli("import", "table", "accountability", str(events_csv), "--as", "inv")
    assert "1 accountability event imported, 1 bad row" in done.stdout
    assert "events.csv:3: the date 2999-03-01 is in the future" in done.stderr

    exported = json.loads(cli("export", "table", "attributions", "--format", "json").stdout)
    assert [(a["status"], a["actor"], a["bases"][0]["start"]) for a in exported] == [
        ("proposed", "3rd company", 1.0)
    ]
    geo = json.loads(cli("export", "table", "accountability", "--format", "geojson").stdout)
    assert geo["features"][0]["geometry"]["coordinates"] == [46.9, 40.0]
    table = cli("export", "table", "actors", "--format", "csv").stdout
    again = _write(tmp_path / "again.csv", list(csv.DictReader(io.StringIO(table))))
    done = cli("import", "table", "actors", str(again), "--as", "inv")
    assert "2 actors imported, 0 bad rows" in done.stdout
