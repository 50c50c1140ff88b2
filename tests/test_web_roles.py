"""Every route is checked for every role: a route table built from the app itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from testament.accounts.models import ApiToken, User
from testament.accounts.roles import ROLES, allows
from testament.actors import actors, attributions
from testament.actors.attributions import AttributionIn
from testament.catalog.models import Asset, Derivative
from testament.investigate.fields import IncidentFields
from testament.investigate.incidents import comment, create, link_asset
from testament.investigate.models import ReferenceDate
from testament.watch.alerts import add_alert
from testament.watch.models import Source
from testament.web.auth import RoleCheck
from tests import web_support as ws

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/healthz")}


def checks(route: APIRoute) -> list[RoleCheck]:
    return [d.call for d in route.dependant.dependencies if isinstance(d.call, RoleCheck)]


def routes_of(routes: list) -> list[APIRoute]:
    """API routes, including those of included routers (FastAPI keeps those nested)."""
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found.extend(routes_of(route.original_router.routes))
    return found


def api_routes(app) -> list[tuple[str, str, RoleCheck | None]]:
    table = []
    for route in routes_of(app.routes):
        for method in route.methods - {"HEAD"}:
            found = checks(route)
            table.append((method, route.path, found[0] if len(found) == 1 else None))
    return table


@pytest.fixture
def world(store, tmp_path: Path):
    """Users of every role, one asset with previews, an incident with a link and a comment."""
    ids = {role: ws.make_user(store, role, role) for role in ROLES}
    ws.make_user(store, "target", "viewer")
    sha256 = ws.hostile_image(store, tmp_path)
    with store.write() as session:
        admin = session.get(User, ids["admin"])
        asset = session.query(Asset).filter_by(sha256=sha256).one()
        incident = create(session, admin, IncidentFields(title="An incident"))
        link = link_asset(session, admin, incident, asset)
        comment(session, admin, incident, "first")
        reference = ReferenceDate(day=__import__("datetime").date(2020, 11, 10), label="ceasefire")
        session.add(reference)
        session.flush()
        derivative = session.query(Derivative).filter_by(asset_id=asset.id).first()
        target = session.query(User).filter_by(username="target").one()
        from testament.accounts.users import issue_token

        issue_token(session, target, "t")
        session.flush()
        token = session.query(ApiToken).one()
        source = Source(
            kind="feed", url="https://example.org/feed.xml", name="feed", created_by="t"
        )
        session.add(source)
        session.flush()
        alert = add_alert(session, "source_error", "feed: HTTP 500", source=source)
        unit = actors.create(session, "admin", kind="unit", name="3rd company", party="A")
        alias = actors.add_alias(session, "admin", unit, "Третья рота", "ru")
        attribution = attributions.propose(
            session, admin, AttributionIn(incident.id, unit.id, "unit responsible", "possible")
        )
        values = {
            "sha256": sha256,
            "incident_id": incident.id,
            "link_id": link.id,
            "derivative_id": derivative.id,
            "user_id": target.id,
            "token_id": token.id,
            "reference_id": reference.id,
            "job_id": "0" * 32,
            "source_id": source.id,
            "alert_id": alert.id,
            "actor_id": unit.id,
            "alias_id": alias.id,
            "attribution_id": attribution.id,
            "cluster_id": 1,
            "face_id": 1,
            "name": "swagger-ui.css",
        }
    return values


def test_every_route_declares_one_role_check(store) -> None:
    app = ws.client(store).app
    unchecked = [
        (m, p) for m, p, check in api_routes(app) if check is None and (m, p) not in PUBLIC
    ]
    assert unchecked == []
    assert len(api_routes(app)) > 40


def test_every_route_for_every_role(store, world) -> None:
    browser = ws.client(store)
    # Logging out ends the round, so it comes last.
    table = sorted(api_routes(browser.app), key=lambda row: row[1] == "/logout")
    for role in [None, *ROLES]:
        browser.cookies.clear()
        token = ws.login(browser, role) if role else ws.csrf(browser)
        for method, path, check in table:
            if (method, path) in PUBLIC:
                continue
            url = path.format(**world)
            response = browser.request(method, url, headers={"X-CSRF-Token": token})
            where = f"{role} {method} {url}"
            if role is None:
                expected = 401 if path.startswith("/api/") else 303
                assert response.status_code == expected, where
            elif allows(role, check.role):
                assert response.status_code not in (401, 403), where
                assert response.status_code < 500, f"{where}: {response.text[:300]}"
            else:
                assert response.status_code == 403, where


def test_every_state_changing_route_needs_the_csrf_token(store, world) -> None:
    """The role check holds the CSRF check, so every checked route has it too."""
    browser = ws.client(store)
    ws.login(browser, "admin")
    unsafe = [(m, p) for m, p, _ in api_routes(browser.app) if m not in ("GET", "HEAD")]
    assert len(unsafe) > 20
    for method, path in unsafe:
        url = path.format(**world)
        response = browser.request(method, url, data={"username": "admin", "password": "x"})
        assert response.status_code == 403, f"{method} {url}"
