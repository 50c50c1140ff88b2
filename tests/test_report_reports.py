"""Incident and case reports in HTML, with blurred stills, a timeline and a map.

The PDFs are looked at page by page in test_report_pages.py.
"""

from __future__ import annotations

import base64
from datetime import date
from pathlib import Path

from testament.catalog.records import find_asset
from testament.investigate.models import ReferenceDate
from testament.media.thumbnails import previews, protective
from testament.store import Store
from tests import web_support as ws
from tests.test_report_packages import make_incident


def _thumbnail(store: Store, sha: str) -> bytes:
    with store.read() as session:
        asset = find_asset(session, sha)
    thumb = next(d for d in previews(store, asset) if d.kind == "thumbnail")
    with store.blobs.open(thumb.sha256) as handle:
        return handle.read()


def test_incident_report_html(cli, store: Store, tmp_path: Path) -> None:
    incident_id, shas = make_incident(store, tmp_path)
    out = tmp_path / "report.html"
    result = cli("report", "incident", str(incident_id), "--out", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text()
    for text in (
        "Execution of detainees",
        "extrajudicial-execution",
        "geolocated from footage",
        "Party A (force, Party A): unit responsible; confidence unverified; proposed",
        f"basis: uniform of asset {shas[0][:12]}",
        "status prisoner of war",
        "Verification history",
        *shas,
        "2020-12-10T09:30:00Z",
    ):
        assert text in html, text
    assert "<script>" not in html and "&lt;script&gt;" in html
    blurred = base64.b64encode(protective(_thumbnail(store, shas[1]))).decode()
    raw = base64.b64encode(_thumbnail(store, shas[1])).decode()
    assert blurred in html and raw not in html
    cli("report", "incident", str(incident_id), "--out", str(out), "--unblurred")
    assert raw in out.read_text()
    missing = cli("report", "incident", "999", "--out", str(out))
    assert missing.exit_code == 2 and "no incident 999" in missing.output


def test_case_report_html_has_charts(cli, store: Store, tmp_path: Path) -> None:
    make_incident(store, tmp_path)
    with store.write() as session:
        session.add(ReferenceDate(day=date(2020, 11, 10), label="ceasefire"))
    out = tmp_path / "case.html"
    assert cli("report", "case", "--out", str(out)).exit_code == 0
    html = out.read_text()
    assert "Extrajudicial" in html or "extrajudicial" in html.lower()
    assert "<td>Party A</td><td>1</td>" in html and "<td>2020-12</td><td>1</td>" in html
    assert "2020-11-10 ceasefire" in html
    # postings by month, the timeline, the map, attributions by party and confidence, and
    # incidents against accountability events
    assert html.count("data:image/png;base64,") == 5
    bad = cli("report", "case", "--format", "docx")
    assert bad.exit_code == 2 and "not html or pdf" in bad.output
    assert ws.HOSTILE not in html
