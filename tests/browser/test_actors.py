"""Attribution in a real browser: attribute → review → accountability event → case view."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from testament.accounts.models import User
from testament.actors import actors
from testament.actors.sources import preserve
from testament.catalog.models import Asset
from testament.investigate import incidents
from testament.investigate.fields import IncidentFields
from tests import web_support as ws
from tests.browser.test_workbench import ARTIFACTS, _login, browser, server
from tests.media import make_image

__all__ = ["browser", "server"]  # fixtures, shared with the workbench's browser test


def test_attribute_review_record_and_read_the_case(server, browser, tmp_path: Path) -> None:
    base, store = server
    inv_id = ws.make_user(store, "ana", "investigator")
    ws.make_user(store, "rev", "reviewer")
    still = ws.ingest(
        store,
        make_image(tmp_path / "still.png", seed=21),
        platform="telegram",
        channel="c",
        posted_at=datetime(2020, 12, 10, tzinfo=UTC),
    )
    release = tmp_path / "release.txt"
    release.write_text("The prosecutor's office opens a criminal case.", encoding="utf-8")
    source = preserve(store, release)
    with store.write() as session:
        ana = session.get(User, inv_id)
        incident = incidents.create(session, ana, IncidentFields(title="Prisoner abuse"))
        asset = session.execute(select(Asset).where(Asset.sha256 == still)).scalar_one()
        incidents.link_asset(session, ana, incident, asset)
        unit = actors.create(session, "ana", kind="unit", name="3rd company", party="Party A")
        incident_id, unit_id = incident.id, unit.id
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    where = f"{base}/incidents/{incident_id}/attributions"

    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    _login(page, base, "ana")
    page.goto(where)
    form = page.get_by_role("form", name="Attribute")
    form.get_by_label("Actor").select_option(str(unit_id))
    form.get_by_label("Role").select_option("unit responsible")
    form.get_by_label("Confidence").select_option("probable")
    form.get_by_label("Basis").select_option("insignia")
    form.get_by_label("Evidence: asset SHA-256").fill(still[:16])
    form.get_by_role("button", name="Propose attribution").click()
    page.wait_for_url(re.compile(r"/attributions$"))
    status = page.locator("td.attribution-status")
    assert status.inner_text().strip() == "proposed"
    page.goto(f"{base}/actors/{unit_id}")
    assert page.locator("img, video").count() == 0  # no media on an actor page
    assert "insignia" in page.locator("main").inner_text()
    context.close()

    context = browser.new_context(viewport={"width": 1360, "height": 900})
    page = context.new_page()
    _login(page, base, "rev")
    page.goto(where)
    review = page.get_by_role("form", name=re.compile("Review attribution"))
    review.get_by_label("Decision").select_option("confirmed")
    review.get_by_role("button", name="Review").click()
    page.wait_for_url(re.compile(r"/attributions$"))
    assert page.locator("td.attribution-status").inner_text().strip() == "confirmed by rev"

    event = page.get_by_role("form", name="Record an accountability event")
    event.get_by_label("Event").select_option("investigation announced")
    event.get_by_label("Date").fill("2021-01-10")
    event.get_by_label("Authority").fill("Prosecutor General's Office")
    event.get_by_label(re.compile("Source")).fill(source)
    event.get_by_role("button", name="Record event").click()
    page.wait_for_url(re.compile(r"/attributions$"))
    assert (
        "investigation announced — Prosecutor General's Office"
        in page.locator("ol.timeline").inner_text()
    )
    page.screenshot(path=ARTIFACTS / "20-attributions.png", full_page=True)

    page.goto(f"{base}/case?days=30")
    assert (
        page.locator("#stalled")
        .inner_text()
        .startswith("1 of 1 incidents: investigation announced, no charge after 30 days")
    )
    assert page.locator("#reaction").inner_text().endswith("median 31 days")
    assert page.locator("#shared").inner_text().startswith("0 identified units")
    page.screenshot(path=ARTIFACTS / "21-case-view.png", full_page=True)
    context.close()
