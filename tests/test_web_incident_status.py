"""The status form shows the incident's status, and keeping it changes nothing."""

from __future__ import annotations

import re

from testament.accounts.models import User
from testament.investigate import incidents as logic
from testament.investigate.fields import IncidentFields
from testament.investigate.models import Incident
from tests import web_support as ws


def _verified_incident(store) -> int:
    ana = ws.make_user(store, "ana", "investigator")
    rev = ws.make_user(store, "rev", "reviewer")
    with store.write() as session:
        author = session.get(User, ana)
        incident = logic.create(session, author, IncidentFields(title="Shelling of the market"))
        logic.set_working_status(session, author, incident, "needs_review")
        logic.review(session, session.get(User, rev), incident, "verified", "geolocated")
        session.flush()
        return incident.id


def _selected_status(page: str) -> str:
    select = re.search(r'<select id="status" name="status">(.*?)</select>', page, re.S)
    assert select is not None
    chosen = re.findall(r'<option value="([^"]+)" selected>', select.group(1))
    assert len(chosen) == 1, select.group(1)
    return chosen[0]


def _history(store, incident_id: int) -> list[str]:
    with store.read() as session:
        incident = session.get(Incident, incident_id)
        return [event.kind for event in logic.feed_events(session, incident)]


def test_a_verified_incident_keeps_its_status_when_the_form_is_sent(store) -> None:
    incident_id = _verified_incident(store)
    browser = ws.client(store)
    token = ws.login(browser, "ana")
    page = browser.get(f"/incidents/{incident_id}").text
    assert _selected_status(page) == "verified"
    before = _history(store, incident_id)

    sent = browser.post(
        f"/incidents/{incident_id}/status", data={"status": "verified", "csrf_token": token}
    )
    assert sent.status_code == 303
    with store.read() as session:
        assert session.get(Incident, incident_id).status == "verified"
    assert _history(store, incident_id) == before


def test_a_working_status_is_preselected_and_resending_it_adds_no_history(store) -> None:
    ws.make_user(store, "ana", "investigator")
    browser = ws.client(store)
    token = ws.login(browser, "ana")
    created = browser.post("/incidents", data={"title": "Checkpoint", "csrf_token": token})
    incident_url = created.headers["location"]
    for status in ("in_progress", "in_progress"):
        browser.post(f"{incident_url}/status", data={"status": status, "csrf_token": token})
    assert _selected_status(browser.get(incident_url).text) == "in_progress"
    incident_id = int(incident_url.rsplit("/", 1)[1])
    assert _history(store, incident_id) == ["created", "status"]
