"""The incident form: any number of repeated rows, and a page that works without JavaScript."""

from __future__ import annotations

import re

from starlette.datastructures import FormData

from testament.web.incident_form import parse, raw_fields
from tests import web_support as ws


def _form(pairs: list[tuple[str, str]]) -> FormData:
    return FormData([("title", "Rows"), *pairs])


def test_rows_with_any_indices_in_order_and_empty_rows_ignored() -> None:
    data = raw_fields(
        _form(
            [
                ("perp-0-party", "Party A"),
                ("perp-0-confidence", "probable"),
                ("perp-0-basis", "uniform"),
                ("perp-0-basis", "speech"),
                ("perp-1-party", ""),  # the spare blank row
                ("perp-1-unit", " "),
                ("perp-1-confidence", "tentative"),
                ("perp-120-party", "Party C"),
                ("perp-7-party", "Party B"),
                ("perp-7-unit", "3rd company"),
                ("victim-0-count", ""),
                ("victim-0-status", "unknown"),
                ("victim-64-count", "4"),
                ("victim-64-status", "civilian"),
                ("perp-x-party", "not a row"),
            ]
        )
    )
    assert [p["party"] for p in data["perpetrators"]] == ["Party A", "Party B", "Party C"]
    assert data["perpetrators"][0]["basis"] == ["uniform", "speech"]
    assert data["perpetrators"][1]["unit"] == "3rd company"
    assert data["victims"] == [{"count": "4", "status": "civilian"}]
    fields, _, problems = parse(_form([("perp-300-party", "Late row"), ("victim-9-count", "1")]))
    assert problems == [] and fields is not None
    assert [p.party for p in fields.perpetrators] == ["Late row"]
    assert [v.count for v in fields.victims] == [1]


def test_a_partly_filled_row_without_party_is_a_problem_not_dropped() -> None:
    fields, data, problems = parse(_form([("perp-0-unit", "Unit only")]))
    assert fields is None
    assert data["perpetrators"][0]["unit"] == "Unit only"
    assert any("party" in p for p in problems)


def test_form_page_has_one_blank_row_each_and_row_templates(store) -> None:
    ws.make_user(store, "ana", "investigator")
    browser = ws.client(store)
    token = ws.login(browser, "ana")
    page = browser.get("/incidents/new").text
    outside = re.sub(r"<template.*?</template>", "", page, flags=re.S)
    assert outside.count('name="perp-0-party"') == 1 and 'name="perp-1-party"' not in outside
    assert outside.count('name="victim-0-count"') == 1 and "victim-1-" not in outside
    assert 'id="perp-row-template"' in page and 'name="perp-__INDEX__-party"' in page
    assert 'id="victim-row-template"' in page and 'name="victim-__INDEX__-count"' in page
    assert 'id="location-map"' in page and 'data-tile-url=""' in page
    assert "/static/incident_form.js" in page and "<script>" not in page
    assert browser.get("/static/incident_form.js").status_code == 200

    created = browser.post(
        "/incidents",
        data={
            "title": "Two parties",
            "csrf_token": token,
            "perp-0-party": "Party A",
            "perp-0-confidence": "possible",
            "perp-5-party": "Party B",
            "perp-5-confidence": "probable",
            "victim-0-count": "3",
            "victim-0-status": "civilian",
            "victim-0-age_group": "unknown",
            "victim-0-sex": "unknown",
        },
    )
    assert created.status_code == 303, created.text
    edit = browser.get(created.headers["location"] + "/edit").text
    # Saved rows come back, renumbered, and no blank row beside them: "Add another" adds
    # one (and without scripts the noscript row is the spare, numbered on).
    shown = re.sub(r"<template.*?</template>|<noscript>.*?</noscript>", "", edit, flags=re.S)
    assert 'value="Party A"' in shown and 'value="Party B"' in shown
    assert re.findall(r'name="perp-(\d+)-party" type="text" value="([^"]*)"', shown) == [
        ("0", "Party A"),
        ("1", "Party B"),
    ]
    assert re.findall(
        r'name="victim-(\d+)-count" type="number" min="0" value="([^"]*)"', shown
    ) == [("0", "3")]
    spare = "".join(re.findall(r"<noscript>(.*?)</noscript>", edit, flags=re.S))
    assert 'name="perp-2-party"' in spare and 'name="victim-1-count"' in spare
