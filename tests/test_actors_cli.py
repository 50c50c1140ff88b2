"""`testament actors`, `attribute` and `accountability`: output, and one-line refusals."""

from __future__ import annotations

import json
from pathlib import Path

from testament.accounts.models import User
from testament.investigate import incidents
from testament.investigate.fields import IncidentFields
from tests import web_support as ws


def test_actors_attribute_and_accountability_from_the_command_line(
    store, cli, tmp_path: Path
) -> None:
    ws.make_user(store, "inv", "investigator")
    ws.make_user(store, "rev", "reviewer")
    sha = ws.small_video(store, tmp_path)
    with store.write() as session:
        incident = incidents.create(session, session.get(User, 1), IncidentFields(title="t")).id
    assert (
        cli("actors", "add", "force", "Armed forces", "--party", "A", "--as", "inv").exit_code == 0
    )
    added = cli(
        "actors",
        "add",
        "unit",
        "3rd company",
        "--parent",
        "1",
        "--alias",
        "3-я рота@ru",
        "--as",
        "inv",
        "--json",
    )
    unit = json.loads(added.stdout)
    assert [(a["name"], a["language"]) for a in unit["aliases"]] == [("3-я рота", "ru")]
    cycle = cli("actors", "parent", "1", str(unit["id"]))
    assert cycle.exit_code == 2 and "cycle" in cycle.stderr and len(cycle.stderr.splitlines()) == 1
    assert "3rd company" in cli("actors", "list", "3-ya rota").stdout
    made = cli(
        "attribute",
        "add",
        str(incident),
        str(unit["id"]),
        "--role",
        "unit responsible",
        "--confidence",
        "probable",
        "--basis",
        f"insignia:{sha[:12]}@1-2#0.1,0.1,0.2,0.2",
        "--as",
        "inv",
    )
    assert made.exit_code == 0, made.stderr
    assert "proposed" in made.stdout
    missing = cli(
        "attribute",
        "add",
        str(incident),
        str(unit["id"]),
        "--role",
        "present",
        "--confidence",
        "possible",
        "--basis",
        "uniform:abcdef12",
        "--as",
        "inv",
    )
    assert missing.exit_code == 2
    assert missing.stderr.strip() == "error: basis uniform: no asset with sha256 starting abcdef12"
    assert cli("attribute", "review", "1", "confirmed", "--as", "inv").exit_code == 2
    assert cli("attribute", "review", "1", "confirmed", "--as", "rev").exit_code == 0
    listed = json.loads(cli("attribute", "list", str(incident), "--json").stdout)
    assert [(a["status"], a["reviewer"]) for a in listed] == [("confirmed", "rev")]
    assert listed[0]["bases"][0]["region"] == [0.1, 0.1, 0.2, 0.2]
    added = cli("attribute", "basis", "1", f"speech:{sha[:12]}@2.5-3", "--as", "inv")
    assert added.stdout.strip() == "attribution 1: speech basis added, proposed"
    outside = cli("attribute", "basis", "1", f"speech:{sha[:12]}@60-61", "--as", "inv")
    assert outside.stderr.strip().endswith("s long") and outside.exit_code == 2
    source = tmp_path / "release.txt"
    source.write_text("The prosecutor's office opens a criminal case.", encoding="utf-8")
    event = cli(
        "accountability",
        "add",
        "investigation announced",
        "--date",
        "2021-01-10",
        "--authority",
        "Prosecutor",
        "--source",
        str(source),
        "--incident",
        str(incident),
        "--as",
        "inv",
        "--json",
    )
    assert event.exit_code == 0, event.stderr
    assert len(json.loads(event.stdout)["source_sha256"]) == 64
    future = cli(
        "accountability",
        "add",
        "charged",
        "--date",
        "2999-01-01",
        "--authority",
        "Court",
        "--source",
        sha,
        "--incident",
        str(incident),
        "--as",
        "inv",
    )
    assert future.stderr.strip() == "error: the date 2999-01-01 is in the future"
    case = json.loads(cli("accountability", "case", "--days", "30", "--json").stdout)
    assert [s["incident_id"] for s in case["stalled"]] == [incident]
    shown = cli("actors", "show", str(unit["id"]), "--as", "inv")
    assert "under: Armed forces" in shown.stdout
