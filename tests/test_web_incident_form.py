"""The incident form: any number of repeated rows, and a page that works without JavaScript."""

from __future__ import annotations

import re

from starlette.datastructures import FormData

from testament.actors import actors, attributions
from testament.investigate.models import Incident
from testament.web.incident_form import parse, raw_fields
from tests import web_support as ws


def _form(pairs: list[tuple[str, str]]) -> FormData:
    return FormData([("title", "Rows"), *pairs])


def _row(index: int | str, actor_id: str, role: str = "present", confidence: str = "possible"):
    return [
        (f"attr-{index}-actor_id", actor_id),
        (f"attr-{index}-role", role),
        (f"attr-{index}-confidence", confidence),
    ]


def test_rows_with_any_indices_in_order_and_empty_rows_ignored() -> None:
    data = raw_fields(
        _form(
            [
                ("victim-0-count", ""),
                ("victim-0-status", "unknown"),
                ("victim-64-count", "4"),
                ("victim-64-status", "civilian"),
                ("victim-x-count", "not a row"),
            ]
        )
    )
    assert data["victims"] == [{"count": "4", "status": "civilian"}]
    fields, proposed, data, problems = parse(
        _form([*_row(120, "3"), *_row(1, ""), *_row(7, "2", "commander"), ("victim-9-count", "1")])
    )
    assert problems == [] and fields is not None
    assert [(a.actor_id, a.role) for a in proposed] == [(2, "commander"), (3, "present")]
    assert [v.count for v in fields.victims] == [1]
    assert "perpetrators" not in fields.model_dump()


def test_a_partly_filled_row_is_a_problem_not_dropped() -> None:
    fields, proposed, data, problems = parse(_form(_row(0, "4", role="bystander")))
    assert fields is None and proposed == []
    assert data["attributions"][0]["role"] == "bystander"
    assert any(p.startswith("attribution 1 role") for p in problems), problems


def test_form_page_proposes_attributions_and_shows_them(store, tmp_path) -> None:
    ws.make_user(store, "ana", "investigator")
    sha = ws.small_video(store, tmp_path)
    with store.write() as session:
        unit = actors.create(session, "ana", kind="unit", name="3rd company", party="Party A")
        force = actors.create(session, "ana", kind="force", name="Armed forces", party="Party B")
        ids = (unit.id, force.id)
    browser = ws.client(store)
    token = ws.login(browser, "ana")
    page = browser.get("/incidents/new").text
    outside = re.sub(r"<template.*?</template>", "", page, flags=re.S)
    assert outside.count('name="attr-0-actor_id"') == 1 and "attr-1-" not in outside
    assert outside.count('name="victim-0-count"') == 1 and "victim-1-" not in outside
    assert 'id="attr-row-template"' in page and 'name="attr-__INDEX__-actor_id"' in page
    assert f'<option value="{ids[0]}">3rd company (unit, Party A)</option>' in page
    assert 'id="victim-row-template"' in page and 'name="victim-__INDEX__-count"' in page
    assert 'id="location-map"' in page and 'data-tile-url=""' in page
    assert "/static/incident_form.js" in page and "<script>" not in page
    assert browser.get("/static/incident_form.js").status_code == 200

    form = {
        "title": "Two parties",
        "csrf_token": token,
        "attr-0-actor_id": str(ids[0]),
        "attr-0-role": "unit responsible",
        "attr-0-confidence": "probable",
        "attr-0-basis": "insignia",
        "attr-0-asset": sha[:12],
        "attr-5-actor_id": str(ids[1]),
        "attr-5-role": "present",
        "attr-5-confidence": "possible",
        "victim-0-count": "3",
        "victim-0-status": "civilian",
        "victim-0-age_group": "unknown",
        "victim-0-sex": "unknown",
    }
    refused = browser.post("/incidents", data=form | {"attr-0-asset": "ab" * 32})
    alert = re.search(r'role="alert">(.*?)</div>', refused.text, flags=re.S)
    assert refused.status_code == 400 and alert is not None
    assert "basis insignia: no asset" in alert[1], alert[1]
    assert 'value="Two parties"' in refused.text  # what was entered comes back
    with store.read() as session:
        assert session.query(Incident).count() == 0  # nothing half-written
    created = browser.post("/incidents", data=form)
    assert created.status_code == 303, created.text
    number = int(created.headers["location"].rsplit("/", 1)[1])
    with store.read() as session:
        made = attributions.for_incident(session, number)
        assert [(a.actor.name, a.role, a.confidence, a.status) for a in made] == [
            ("3rd company", "unit responsible", "probable", "proposed"),
            ("Armed forces", "present", "possible", "proposed"),
        ]
        assert [(b.kind, b.asset.sha256) for b in made[0].bases] == [("insignia", sha)]
    shown = browser.get(created.headers["location"]).text
    assert "3rd company, Party A — unit responsible, <em>probable</em>, proposed" in shown
    edit = browser.get(created.headers["location"] + "/edit").text
    # Attributions made are listed (they change on their own page); one blank row adds more.
    assert "3rd company — unit responsible, probable, proposed" in edit
    outside = re.sub(r"<template.*?</template>", "", edit, flags=re.S)
    assert outside.count('name="attr-0-actor_id"') == 1 and "attr-1-" not in outside
    shown = re.sub(r"<template.*?</template>|<noscript>.*?</noscript>", "", edit, flags=re.S)
    assert re.findall(
        r'name="victim-(\d+)-count" type="number" min="0" value="([^"]*)"', shown
    ) == [("0", "3")]
    spare = "".join(re.findall(r"<noscript>(.*?)</noscript>", edit, flags=re.S))
    assert 'name="victim-1-count"' in spare
    saved = browser.post(
        f"/incidents/{number}",
        data={
            "title": "Two parties",
            "csrf_token": token,
            **dict(_row(0, str(ids[1]), "commander")),
        },
    )
    assert saved.status_code == 303, saved.text
    with store.read() as session:
        assert len(attributions.for_incident(session, number)) == 3
