"""Incidents: validation, history, the four-eyes verification rule, comments, segments."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from testament.accounts.models import User
from testament.actors import actors, attributions
from testament.actors.attributions import AttributionIn
from testament.catalog.models import Asset
from testament.investigate import incidents as logic
from testament.investigate import search, taxonomy
from testament.investigate.fields import IncidentFields
from tests import web_support as ws


def _users(store) -> dict[str, int]:
    return {
        name: ws.make_user(store, name, role)
        for name, role in (("ana", "investigator"), ("rev", "reviewer"), ("boss", "admin"))
    }


def test_fields_are_validated() -> None:
    with pytest.raises(ValidationError, match="both latitude and longitude"):
        IncidentFields(title="t", latitude=40.0)
    with pytest.raises(ValidationError, match="earliest possible time is after"):
        IncidentFields(title="t", event_earliest="2020-12-10", event_latest="2020-12-09")
    with pytest.raises(ValidationError, match="outside its bounds"):
        IncidentFields(title="t", event_time="2020-12-11", event_latest="2020-12-10")
    with pytest.raises(ValidationError, match="perpetrators"):  # retired: attributions say who
        IncidentFields(title="t", perpetrators=[{"party": "A", "confidence": "possible"}])
    fields = IncidentFields(
        title=" t ", tags=["Demo", "demo", " x  y "], event_time="2020-12-10T09:00"
    )
    assert fields.title == "t" and fields.tags == ["demo", "x y"]
    assert fields.event_time.tzinfo is not None


def test_history_and_second_person_verification(store, tmp_path: Path) -> None:
    ids = _users(store)
    sha256 = ws.small_video(store, tmp_path)
    with store.write() as session:
        taxonomy.ensure_defaults(session)
    with store.write() as session:
        ana, rev = session.get(User, ids["ana"]), session.get(User, ids["rev"])
        incident = logic.create(
            session,
            ana,
            IncidentFields(
                title="Execution of detainees",
                violations=["extrajudicial-execution"],
                victims=[{"count": 2, "status": "prisoner of war"}],
            ),
        )
        asset = session.query(Asset).filter_by(sha256=sha256).one()
        logic.link_asset(session, ana, incident, asset, 1.0, 3.5, "the shooting")
        with pytest.raises(logic.IncidentError, match=r"only 4\.0 s long"):
            logic.link_asset(session, ana, incident, asset, 1.0, 30.0)
        with pytest.raises(logic.IncidentError, match="ends after it starts"):
            logic.link_asset(session, ana, incident, asset, 3.0, 1.0)
        with pytest.raises(logic.IncidentError, match="set by a review"):
            logic.set_working_status(session, ana, incident, "verified")
        logic.set_working_status(session, ana, incident, "needs_review")
        with pytest.raises(logic.IncidentError, match="only reviewers"):
            logic.review(session, ana, incident, "verified")
        changes = logic.update(
            session, rev, incident, IncidentFields(title="Execution of two detainees")
        )
        assert changes["title"] == ["Execution of detainees", "Execution of two detainees"]
        with pytest.raises(logic.IncidentError, match="second person"):
            logic.review(session, rev, incident, "verified")  # rev edited it
        boss = session.get(User, ids["boss"])
        logic.review(session, boss, incident, "verified", "geolocated and dated")
        assert incident.status == "verified"
        logic.update(session, ana, incident, IncidentFields(title="Changed after verification"))
        assert incident.status == "needs_review"
        logic.comment(session, rev, incident, "<b>checked</b>")
        kinds = [e.kind for e in logic.feed_events(session, incident)]
    assert kinds == [
        "created",
        "asset_linked",
        "status",
        "edited",
        "review",
        "status",
        "edited",
        "status",
        "comment",
    ]


def test_comments_cannot_be_deleted_or_edited(store) -> None:
    app = ws.client(store).app
    from tests.test_web_roles import routes_of

    for route in routes_of(app.routes):
        assert not ("comment" in route.path and route.methods & {"DELETE", "PUT", "PATCH"})


def test_search_finds_posts_incidents_and_comments(store, tmp_path: Path) -> None:
    ids = _users(store)
    ws.hostile_image(store, tmp_path)
    with store.write() as session:
        taxonomy.ensure_defaults(session)
        ana = session.get(User, ids["ana"])
        incident = logic.create(
            session,
            ana,
            IncidentFields(title="Shelling of Martuni market"),
        )
        unit = actors.create(session, "ana", kind="unit", name="Unit Ձ", party="Party A")
        attributions.propose(
            session, ana, AttributionIn(incident.id, unit.id, "unit responsible", "possible")
        )
        logic.comment(session, ana, incident, "Geolocated via the minaret")
    with store.write() as session:
        search.catch_up(session)
    with store.read() as session:
        assert {h.kind for h in search.search(session, "ceasefire")} == {"capture"}
        assert [h.kind for h in search.search(session, "martun")] == ["incident"]  # prefix
        assert [h.kind for h in search.search(session, "MINARET")] == ["comment"]
        assert [h.kind for h in search.search(session, "Ձ")] == ["incident"]
        assert search.search(session, 'AND OR NOT ( " * :') == []
        assert search.search(session, "ceasefire nothere") == []
