"""A unit's known positions: recorded with a source, cited by geolocation bases, shown, exported."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest

from testament.accounts.models import User
from testament.actors import actors, attributions, package
from testament.actors.actors import ActorError, PositionIn
from testament.actors.attributions import AttributionIn, BasisIn
from testament.catalog.records import find_asset
from testament.investigate import incidents
from testament.investigate.fields import IncidentFields
from testament.store import Store
from tests import web_support as ws


@pytest.fixture
def unit_and_source(store: Store, tmp_path: Path) -> dict:
    ana = ws.make_user(store, "ana", "investigator")
    source = ws.hostile_image(store, tmp_path)
    footage = ws.small_video(store, tmp_path)
    with store.write() as session:
        unit = actors.create(session, "ana", kind="unit", name="3rd company", party="Party A")
        person = actors.create(session, "ana", kind="individual", name="Unnamed soldier")
        incident = incidents.create(session, session.get(User, ana), IncidentFields(title="i"))
        return {
            "unit": unit.id,
            "person": person.id,
            "incident": incident.id,
            "user": ana,
            "source": source,
            "footage": footage,
        }


def test_positions_are_checked_and_cited_by_geolocation(store: Store, unit_and_source) -> None:
    w = unit_and_source
    with store.write() as session:
        unit = actors.get(session, w["unit"])
        position = actors.add_position(
            session,
            "ana",
            unit,
            PositionIn(
                w["source"][:12], "Checkpoint on the bridge", 39.81, 46.75, date(2020, 11, 1)
            ),
        )
        position_id = position.id
    refusals = [
        (PositionIn(w["source"], "x", latitude=39.8), "both latitude and longitude"),
        (PositionIn(w["source"]), "place name or coordinates"),
        (PositionIn(w["source"], "x", start=date.today() + timedelta(days=2)), "in the future"),
        (PositionIn(w["source"], "x", start=date(2020, 2, 1), end=date(2020, 1, 1)), "ends before"),
        (PositionIn("ab" * 32, "x"), "position source"),
    ]
    for given, message in refusals:
        with store.write() as session, pytest.raises(ActorError, match=message):
            actors.add_position(session, "ana", actors.get(session, w["unit"]), given)
    with store.write() as session, pytest.raises(ActorError, match="positions are of units"):
        actors.add_position(
            session, "ana", actors.get(session, w["person"]), PositionIn(w["source"], "x")
        )
    with store.write() as session:
        user = session.get(User, w["user"])
        cited = BasisIn("geolocation", w["footage"], 1.0, 2.0, position_id=position_id)
        made = attributions.propose(
            session,
            user,
            AttributionIn(w["incident"], w["unit"], "unit responsible", "possible", [cited]),
        )
        assert attributions.basis_dict(made.bases[0])["position_id"] == position_id
        for wrong, message in (
            (BasisIn("uniform", w["footage"], position_id=position_id), "only a geolocation"),
            (BasisIn("geolocation", w["footage"], position_id=999), "no position 999"),
        ):
            with pytest.raises(ActorError, match=message):
                attributions.add_basis(session, user, made, wrong)
        record = package.records(session, w["incident"])
        assert record["actors"][0]["positions"][0]["place_name"] == "Checkpoint on the bridge"
        # The package carries the position's source as well as the footage.
        relied = package.relied_on(session, w["incident"])
        assert relied == {find_asset(session, w["source"]).id, find_asset(session, w["footage"]).id}
        history = actors.history(session, actors.get(session, w["unit"]))
    assert [h["kind"] for h in history] == ["created", "position_added"]


def test_positions_through_cli_api_page_and_export(store: Store, unit_and_source, cli) -> None:
    w = unit_and_source
    where = ["--place", "Hill 402", "--lat", "39.7", "--lon", "46.6", "--from", "2020-10-01"]
    added = cli("actors", "position", str(w["unit"]), "--source", w["source"][:12], *where)
    assert added.exit_code == 0, added.stderr
    assert added.stdout.strip() == f"actor {w['unit']}: position 1"
    refused = cli("actors", "position", str(w["person"]), "--source", w["source"], "--place", "x")
    assert refused.exit_code == 2 and "positions are of units" in refused.stderr
    browser = ws.client(store)
    token = ws.login(browser, "ana")
    api = browser.post(
        f"/api/actors/{w['unit']}/positions",
        json={"source_sha256": w["source"], "place_name": "Village school", "end": "2020-11-20"},
        headers={"x-csrf-token": token},
    )
    assert api.status_code == 201, api.text
    assert [p["place_name"] for p in api.json()["positions"]] == ["Hill 402", "Village school"]
    bad = browser.post(
        f"/api/actors/{w['unit']}/positions",
        json={"source_sha256": "ab" * 32, "place_name": "x"},
        headers={"x-csrf-token": token},
    )
    assert bad.status_code == 400 and "position source" in bad.json()["detail"]
    form = browser.post(
        f"/actors/{w['unit']}/positions",
        data={
            "csrf_token": token,
            "source_sha256": w["source"],
            "latitude": "95",
            "longitude": "1",
        },
    )
    assert "error=" in form.headers["location"]
    page = browser.get(f"/actors/{w['unit']}").text
    assert "Hill 402" in page and "39.70000, 46.60000" in page and "2020-10-01 – ?" in page
    assert "position added by ana: Village school" in page
    shown = cli("actors", "show", str(w["unit"]), "--as", "ana").stdout
    assert f"position 1: Hill 402 (39.7, 46.6), 2020-10-01 – ?, source {w['source'][:12]}" in shown
    assert "position 2: Village school, ? – 2020-11-20" in shown
    exported = json.loads(cli("export", "table", "actors", "--format", "json").stdout)
    unit = next(a for a in exported if a["id"] == w["unit"])
    assert [p["source_sha256"] for p in unit["positions"]] == [w["source"], w["source"]]
    geo = json.loads(cli("export", "table", "actors", "--format", "geojson").stdout)
    (feature,) = geo["features"]  # the village school has no coordinates
    assert feature["geometry"] == {"type": "Point", "coordinates": [46.6, 39.7]}
    assert feature["properties"] == {
        "id": feature["id"],
        "actor_id": w["unit"],
        "actor": "3rd company",
        "place": "Hill 402",
        "start": "2020-10-01",
        "end": None,
        "source_sha256": w["source"],
        "note": "",
    }


def test_a_geolocation_basis_cites_a_position_by_option_or_suffix(
    store: Store, unit_and_source, cli
) -> None:
    w = unit_and_source
    where = ["--place", "Hill 402", "--lat", "39.7", "--lon", "46.6", "--as", "ana"]
    made = cli("actors", "position", str(w["unit"]), "--source", w["source"], *where)
    number = made.stdout.split()[-1]  # "actor N: position P"
    with store.write() as session:
        given = AttributionIn(w["incident"], w["unit"], "unit responsible", "possible", [])
        attribution = attributions.propose(session, session.get(User, w["user"]), given).id
    basis = f"geolocation:{w['footage'][:12]}@1-2"

    def add(*args: str):
        return cli("attribute", "basis", str(attribution), *args, "--as", "ana")

    added = add(basis, "--position", number)
    assert added.exit_code == 0, added.output
    assert added.stdout.strip() == f"attribution {attribution}: geolocation basis added, proposed"
    assert add(f"{basis}~{number}").exit_code == 0
    assert add(f"{basis}~{number}", "--position", number).exit_code == 0
    different = add(f"{basis}~{number}", "--position", "999")
    assert different.exit_code == 2
    named = f"error: --position 999 and '{basis}~{number}' name different positions"
    assert different.stderr.strip() == named
    missing = add(basis, "--position", "999")
    assert missing.exit_code == 2 and "no position 999" in missing.stderr
    uniform = add(f"uniform:{w['footage'][:12]}", "--position", number)
    assert uniform.exit_code == 2 and "only a geolocation" in uniform.stderr
    listed = json.loads(cli("attribute", "list", str(w["incident"]), "--json").stdout)
    assert [b["position_id"] for b in listed[0]["bases"]] == [int(number)] * 3
