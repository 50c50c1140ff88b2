"""The case view's figures on a generated case, the actor page's safety rules, and the API."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from testament.accounts import audit
from testament.accounts.models import User
from testament.actors import accountability, actors, attributions, profile
from testament.actors.accountability import EventIn
from testament.actors.actors import ActorError
from testament.actors.attributions import AttributionIn, BasisIn
from testament.actors.models import AccountabilityEvent
from testament.actors.sources import preserve
from testament.investigate import incidents
from testament.investigate.fields import IncidentFields
from testament.investigate.models import Incident
from testament.store import Store
from tests import web_support as ws
from tests.media import make_image


def _document(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def case(store: Store, tmp_path: Path) -> dict:
    """Three incidents; one unit in two of them; an announced investigation that stalled."""
    ids = {role: ws.make_user(store, role, role) for role in ("viewer", "investigator", "reviewer")}
    posted = [datetime(2020, 12, 10, tzinfo=UTC), datetime(2020, 12, 20, tzinfo=UTC)]
    shas = [
        ws.ingest(
            store,
            make_image(tmp_path / f"still{n}.png", seed=10 + n),
            platform="telegram",
            channel="c",
            posted_at=when,
        )
        for n, when in enumerate(posted)
    ]
    release = preserve(store, _document(tmp_path, "release.txt", "The office opens a case."))
    charge = preserve(store, _document(tmp_path, "charge.txt", "Two soldiers are charged."))
    with store.write() as session:
        inv = session.get(User, ids["investigator"])
        made = [
            incidents.create(session, inv, IncidentFields(title=f"Incident {n}")) for n in range(3)
        ]
        for incident, sha in zip(made, shas, strict=False):
            incidents.link_asset(session, inv, incident, ws_asset(session, sha))
        unit = actors.create(session, "investigator", kind="unit", name="3rd company", party="A")
        person = actors.create(session, "investigator", kind="individual", name="Unnamed soldier")
        for incident in made[:2]:
            attributions.propose(
                session,
                inv,
                AttributionIn(
                    incident.id,
                    unit.id,
                    "unit responsible",
                    "probable",
                    [BasisIn("insignia", sha256=shas[0], region=[0.1, 0.2, 0.3, 0.3])],
                ),
            )
        attributions.propose(
            session, inv, AttributionIn(made[2].id, person.id, "direct perpetrator", "possible")
        )
        for given in (
            EventIn(
                "investigation announced", date(2021, 1, 10), "Prosecutor", release, made[0].id
            ),
            EventIn("investigation announced", date(2021, 1, 5), "Prosecutor", release, made[1].id),
            EventIn("charged", date(2021, 3, 1), "Prosecutor", charge, made[1].id),
        ):
            accountability.record(session, inv, given)
        ids.update(incidents=[i.id for i in made], unit=unit.id, person=person.id, release=release)
    return ids


def ws_asset(session, sha256: str):
    from testament.catalog.models import Asset

    return session.execute(select(Asset).where(Asset.sha256 == sha256)).scalar_one()


def test_case_view_figures(store: Store, case: dict) -> None:
    first, second, third = case["incidents"]
    with store.read() as session:
        view = accountability.case_view(session, after_days=90, as_of=date(2021, 6, 1))
        soon = accountability.case_view(session, after_days=200, as_of=date(2021, 6, 1))
    assert [(s.incident_id, s.announced, s.days) for s in view.stalled] == [
        (first, date(2021, 1, 10), 142)
    ]
    assert soon.stalled == []
    assert [(u.name, u.incidents) for u in view.shared_units] == [("3rd company", [first, second])]
    assert [(r.incident_id, r.days, r.reaction) for r in view.reactions] == [
        (first, 31, "investigation announced"),
        (second, 16, "investigation announced"),
    ]
    assert view.median_reaction_days == 23.5
    assert (view.incidents, view.without_reaction) == (3, 1)
    assert third not in {r.incident_id for r in view.reactions}


def test_bad_events_are_one_line_and_write_nothing(store: Store, case: dict) -> None:
    bad = [
        (
            EventIn("charged", date(2999, 1, 1), "Court", case["release"], case["incidents"][0]),
            "in the future",
        ),
        (
            EventIn("charged", date(2021, 1, 1), "Court", "ffff0000", case["incidents"][0]),
            "no asset",
        ),
        (
            EventIn("charged", date(2021, 1, 1), "Court", case["release"], actor_id=9999),
            "no actor 9999",
        ),
        (EventIn("exonerated", date(2021, 1, 1), "Court", case["release"], 1), "unknown event"),
    ]
    for given, message in bad:
        with pytest.raises(ActorError, match=message), store.write() as session:
            accountability.record(session, session.get(User, case["investigator"]), given)
    with store.read() as session:
        assert len(session.execute(select(AccountabilityEvent)).all()) == 3


def test_an_individual_is_hidden_from_viewers_and_each_viewing_is_audited(
    store: Store, case: dict
) -> None:
    with store.write() as session:
        with pytest.raises(profile.NotAllowed):
            profile.view(session, "viewer", "viewer", case["person"])
        page = profile.view(session, "viewer", "viewer", case["unit"])
        assert len(page["attributions"]) == 2
        profile.view(session, "investigator", "investigator", case["person"], client="test")
    with store.read() as session:
        seen = audit.entries(session, subject=f"actor:{case['person']}")
        assert [(e.username, e.action) for e in seen] == [("investigator", "view_individual")]
        assert audit.entries(session, subject=f"actor:{case['unit']}") == []


def test_the_api_and_pages_follow_the_roles(store: Store, case: dict) -> None:
    browser = ws.client(store)
    token = ws.login(browser, "viewer")
    assert browser.get(f"/api/actors/{case['person']}").status_code == 403
    assert browser.get(f"/actors/{case['person']}").status_code == 403
    names = [a["name"] for a in browser.get("/api/actors").json()]
    assert names == ["3rd company"]
    third = case["incidents"][2]
    shown = browser.get(f"/api/incidents/{third}/attributions").json()
    assert shown[0]["actor"] == "an individual (hidden for your role)"
    page = browser.get(f"/actors/{case['unit']}")
    assert page.status_code == 200
    assert "<img" not in page.text and "<video" not in page.text
    refused = browser.post(
        f"/api/incidents/{third}/attributions",
        json={"actor_id": case["unit"], "role": "present", "confidence": "possible"},
        headers={"X-CSRF-Token": token},
    )
    assert refused.status_code == 403
    case_page = browser.get("/api/case", params={"days": 30}).json()
    assert case_page["shared_units"][0]["name"] == "3rd company"

    browser.cookies.clear()
    token = ws.login(browser, "investigator")
    headers = {"X-CSRF-Token": token}
    bad = browser.post(
        "/api/actors",
        json={"kind": "unit", "name": "x", "parent_id": case["person"]},
        headers=headers,
    )
    assert bad.status_code == 400 and "cannot be a parent" in bad.json()["detail"]
    missing = browser.post(
        f"/api/incidents/{third}/attributions",
        json={"actor_id": 99999, "role": "present", "confidence": "possible"},
        headers=headers,
    )
    assert (missing.status_code, missing.json()["detail"]) == (404, "no actor 99999")
    made = browser.post(
        f"/api/incidents/{third}/attributions",
        json={"actor_id": case["unit"], "role": "present", "confidence": "possible"},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    assert browser.get(f"/actors/{case['person']}").status_code == 200

    browser.cookies.clear()
    token = ws.login(browser, "reviewer")
    reviewed = browser.post(
        f"/api/attributions/{made.json()['id']}/review",
        json={"decision": "confirmed"},
        headers={"X-CSRF-Token": token},
    )
    assert reviewed.json()["status"] == "confirmed"
    assert reviewed.json()["reviewer"] == "reviewer"
    assert browser.get("/case").status_code == 200


def test_reports_gain_attribution_and_accountability(store: Store, case: dict) -> None:
    from testament.report.case_report import case_document
    from testament.report.document import to_html
    from testament.report.incident_report import incident_document

    first = case["incidents"][0]
    report = incident_document(store, first)
    section = next(s for s in report.sections if s.title == "Attribution and accountability")
    assert section.lines[0] == (
        "3rd company (unit, A): unit responsible; confidence probable; proposed"
    )
    assert section.lines[1].startswith("  basis: insignia of asset ")
    assert "in region 0.10, 0.20, 0.30, 0.30" in section.lines[1]
    assert section.tables[0].rows[0][:3] == ["2021-01-10", "investigation announced", "Prosecutor"]
    whole = case_document(store)
    found = next(s for s in whole.sections if s.title == "Attribution and accountability")
    assert found.tables[0].rows == [
        ["A", "0", "2", "0", "0"],
        ["no party stated", "0", "0", "1", "0"],
    ]
    captions = [p.caption for p in found.pictures]
    assert captions[0].startswith("Attributions (not rejected) by the party")
    assert captions[1].startswith("Bars: incidents by month")
    assert all(p.data.startswith(b"\x89PNG") for p in found.pictures)
    assert "identified units appear in more than one incident: 3rd company (2)" in to_html(whole)


def test_an_incident_package_holds_its_actors_bases_and_accountability_sources(
    store: Store, case: dict, tmp_path: Path
) -> None:
    import json

    from testament.report.packages import build_package
    from testament.report.verify_package import verify_package

    first = case["incidents"][0]
    with store.read() as session:
        linked = [link.asset_id for link in session.get(Incident, first).assets]
    out = tmp_path / "package"
    result = build_package(store, linked, out, incident_id=first)
    assert result.assets == 2  # the linked still and the preserved press release
    record = json.loads((out / "data/records/attribution.json").read_text(encoding="utf-8"))
    assert [a["name"] for a in record["actors"]] == ["3rd company"]
    assert record["attributions"][0]["history"][0]["kind"] == "proposed"
    assert [e["source_sha256"] for e in record["accountability"]] == [case["release"]]
    held = {p.name for p in out.rglob("*") if p.is_file()}
    assert any(case["release"] in name for name in held)
    assert verify_package(out).intact
