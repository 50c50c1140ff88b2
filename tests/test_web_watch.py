"""The workbench's Sources page and alert inbox, and the same under /api.

Alerts come from a real watcher round over a local server playing a Telegram channel: one
post with a photo and hostile text (new footage), one whose video the preview does not
serve (media missing).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select

from testament.accounts import users
from testament.investigate.fields import IncidentFields
from testament.investigate.incidents import create
from testament.investigate.models import IncidentAsset
from testament.store import Store
from testament.watch.lease import new_owner
from testament.watch.models import Alert, Source
from testament.watch.net import Http
from testament.watch.notify import Notifier
from testament.watch.page_browser import CHROMIUM_ENV
from testament.watch.poller import Watcher
from testament.watch.scheduler import Scheduler
from testament.watch.sources import add_source
from tests import web_support as ws
from tests.watch_site import Media, Site, serving
from tests.watch_support import media_bytes, watch_once


@dataclass
class Watched:
    site: Site
    source_id: int
    new_footage: int  # alert ids
    media_missing: int
    known_footage: int
    incident_id: int


@pytest.fixture
def watched(store: Store) -> Iterator[Watched]:
    ws.make_user(store, "ana", "investigator")
    ws.make_user(store, "vic", "viewer")
    photo, _video = media_bytes()
    with serving(Site()) as site:
        channel = site.channel("frontline", "Front Line")
        site.add_file("p.jpg", photo)
        channel.post(f"shelling near the bridge {ws.HOSTILE}", [Media("photo", "p.jpg", photo)])
        channel.post("too big", [Media("video", "huge.mp4", None)])
        channel.post("the same photo again", [Media("photo", "p.jpg", photo)])
        source_id = watch_once(store, f"{site.base}/s/frontline")
        with store.write() as session:
            alerts = dict(session.execute(select(Alert.kind, Alert.id)).all())
            ana = users.find_user(session, "ana")
            incident = create(session, ana, IncidentFields(title="Bridge shelling"))
            session.flush()
            incident_id = incident.id
        yield Watched(
            site,
            source_id,
            alerts["new_footage"],
            alerts["media_missing"],
            alerts["known_footage"],
            incident_id,
        )


def _form(token: str, **fields: object) -> dict[str, object]:
    return {"csrf_token": token, **fields}


def test_sources_page_adds_pauses_resumes_and_removes(store: Store, watched: Watched) -> None:
    browser = ws.client(store)
    token = ws.login(browser, "ana")
    page = browser.get("/sources")
    assert page.status_code == 200
    row = re.search(rf'<tr id="source-{watched.source_id}".*?</tr>', page.text, re.S)
    assert row is not None
    cells = re.findall(r"<td>(.*?)</td>", row.group(0), re.S)
    assert "frontline" in cells[1] and cells[2] == "telegram"
    assert [cells[7], cells[8], cells[9]] == ["3", "2", "3"]  # posts, media, alerts
    assert "UTC" in cells[5] and "UTC" in cells[10]  # last run, next run

    feed = f"{watched.site.base}/feed/news.xml"
    added = browser.post("/sources", data=_form(token, address=feed, kind="feed", every="30m"))
    assert added.status_code == 200 and f"Watching {feed} as source" in added.text
    with store.read() as session:
        source = session.execute(select(Source).where(Source.url == feed)).scalar_one()
    assert (source.kind, source.every_seconds) == ("feed", 1800)

    again = browser.post("/sources", data=_form(token, address=feed, kind="feed"))
    assert again.status_code == 400 and "is already watched" in again.text
    folder = browser.post("/sources", data=_form(token, address="/etc"))
    assert folder.status_code == 400
    assert "a folder is added on the server with" in folder.text
    chosen = browser.post("/sources", data=_form(token, address="/etc", kind="folder"))
    assert chosen.status_code == 400 and "a folder is added on the server" in chosen.text
    unknown = browser.post("/sources", data=_form(token, address=feed, kind="rss"))
    assert unknown.status_code == 400 and "unknown kind &#39;rss&#39;" in unknown.text
    bad_every = browser.post("/sources", data=_form(token, address=feed + "?2", every="soon"))
    assert bad_every.status_code == 400 and "is not a duration" in bad_every.text

    paused = browser.post(f"/sources/{source.id}/pause", data=_form(token))
    assert f"Source {source.id} paused." in paused.text
    assert f'action="/sources/{source.id}/resume"' in paused.text
    resumed = browser.post(f"/sources/{source.id}/resume", data=_form(token))
    assert "resumed" in resumed.text and f'action="/sources/{source.id}/pause"' in resumed.text
    removed = browser.post(f"/sources/{source.id}/remove", data=_form(token))
    assert f'id="source-{source.id}"' not in removed.text
    gone = browser.post(f"/sources/{source.id}/pause", data=_form(token))
    assert gone.status_code == 400 and f"no source {source.id}" in gone.text

    # A viewer sees the sources but no forms, and may not change them.
    viewer = ws.client(store)
    viewer_token = ws.login(viewer, "vic")
    seen = viewer.get("/sources")
    assert (
        seen.status_code == 200
        and "frontline" in seen.text
        and '<form method="post" action="/sources"' not in seen.text
    )
    refused = viewer.post(f"/sources/{watched.source_id}/pause", data=_form(viewer_token))
    assert refused.status_code == 403


def test_inbox_blurs_previews_keeps_post_text_inert_and_triages(
    store: Store, watched: Watched
) -> None:
    browser = ws.client(store)
    token = ws.login(browser, "ana")
    page = browser.get("/alerts")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    alert = re.search(
        rf'<article[^>]*id="alert-{watched.new_footage}".*?</article>', page.text, re.S
    )
    assert alert is not None
    html = alert.group(0)
    # The media's preview is the blurred one; the clear one only on "Reveal".
    img = re.search(r'<img[^>]*class="protected-thumb"[^>]*>', html)
    assert img is not None
    src = re.search(r' src="([^"]+)"', img.group(0))
    assert src is not None and re.fullmatch(r"/assets/[0-9a-f]{64}/thumbnail", src.group(1))
    assert "Reveal" in html
    # Hostile post text is shown as text.
    assert "<script>alert" not in page.text and "onerror=alert(1)>" not in page.text
    assert "&lt;script&gt;alert(&#34;post&#34;)&lt;/script&gt;" in html

    # Known footage names its group and the earliest capture of it.
    known = re.search(
        rf'<article[^>]*id="alert-{watched.known_footage}".*?</article>', page.text, re.S
    )
    assert known is not None and "footage group:" in known.group(0)
    assert "earliest known:" in known.group(0)

    only_missing = browser.get("/alerts", params={"kind": "media_missing"})
    assert f'id="alert-{watched.media_missing}"' in only_missing.text
    assert f'id="alert-{watched.new_footage}"' not in only_missing.text
    assert browser.get("/alerts", params={"kind": "nonsense"}).status_code == 400

    seen = browser.post(f"/alerts/{watched.new_footage}/seen", data=_form(token))
    assert seen.status_code == 303 and seen.headers["location"].endswith(
        f"#alert-{watched.new_footage}"
    )
    unseen = browser.get("/alerts", params={"unseen": "true"})
    assert f'id="alert-{watched.new_footage}"' not in unseen.text
    assert f'id="alert-{watched.media_missing}"' in unseen.text
    assert "seen by ana" in browser.get("/alerts").text

    linked = browser.post(
        f"/alerts/{watched.new_footage}/incident",
        data=_form(token, incident_id=watched.incident_id),
    )
    assert linked.status_code == 303
    notice = browser.get(linked.headers["location"])
    assert f"Linked to incident #{watched.incident_id}." in notice.text
    assert "Phish" not in browser.get("/alerts", params={"linked": "Phish"}).text
    with store.read() as session:
        alert_row = session.get(Alert, watched.new_footage)
        links = session.execute(select(IncidentAsset)).scalars().all()
    assert alert_row is not None and alert_row.incident_id == watched.incident_id
    assert [link.asset_id for link in links] == [alert_row.asset_id]
    twice = browser.post(
        f"/alerts/{watched.new_footage}/incident",
        data=_form(token, incident_id=watched.incident_id),
    )
    assert twice.status_code == 400 and "already linked" in twice.text
    # Nothing was preserved of the missing video's post (its page was not captured).
    nothing = browser.post(
        f"/alerts/{watched.media_missing}/incident",
        data=_form(token, incident_id=watched.incident_id),
    )
    assert nothing.status_code == 400 and "has nothing preserved to link" in nothing.text

    viewer = ws.client(store)
    viewer_token = ws.login(viewer, "vic")
    assert "Mark as seen" not in viewer.get("/alerts").text
    assert (
        viewer.post(f"/alerts/{watched.media_missing}/seen", data=_form(viewer_token)).status_code
        == 403
    )


def _bearer(store: Store, name: str) -> dict[str, str]:
    with store.write() as session:
        secret = users.issue_token(session, users.find_user(session, name), "test")
    return {"Authorization": f"Bearer {secret}"}


def test_watch_api(store: Store, watched: Watched) -> None:
    api = ws.client(store)
    ana, vic = _bearer(store, "ana"), _bearer(store, "vic")

    (source,) = api.get("/api/sources", headers=vic).json()
    assert source["id"] == watched.source_id and source["kind"] == "telegram"
    assert (source["posts"], source["media"], source["alerts"]) == (3, 2, 3)
    assert source["last_error"] is None and source["next_run_at"]

    feed = f"{watched.site.base}/feed/news.xml"
    assert api.post("/api/sources", json={"address": feed}, headers=vic).status_code == 403
    created = api.post("/api/sources", json={"address": feed, "every": "1h"}, headers=ana)
    assert created.status_code == 201
    added = created.json()
    assert (added["kind"], added["every_seconds"], added["status"]) == ("feed", 3600, "active")
    refused = api.post("/api/sources", json={"address": "/etc"}, headers=ana)
    assert refused.status_code == 400 and "only http or https" in refused.json()["detail"]
    folder = api.post("/api/sources", json={"address": "/etc", "kind": "folder"}, headers=ana)
    assert folder.status_code == 422
    paused = api.post(f"/api/sources/{added['id']}/pause", headers=ana).json()
    assert paused["status"] == "paused"
    assert api.post(f"/api/sources/{added['id']}/resume", headers=ana).json()["status"] == "active"
    assert api.delete(f"/api/sources/{added['id']}", headers=ana).json()["status"] == "removed"
    assert api.delete(f"/api/sources/{added['id']}", headers=ana).status_code == 404

    alerts = api.get("/api/alerts", headers=vic).json()
    assert [a["kind"] for a in alerts] == ["known_footage", "media_missing", "new_footage"]
    new = alerts[2]
    assert new["post"]["text"].endswith(ws.HOSTILE)  # kept as it was posted, for the record
    assert re.fullmatch(r"[0-9a-f]{64}", new["asset_sha256"]) and new["page_capture"] is None
    only = api.get("/api/alerts", params={"kind": "media_missing"}, headers=vic).json()
    assert [a["id"] for a in only] == [watched.media_missing]
    assert api.get("/api/alerts", params={"since": "2999-01-01"}, headers=vic).json() == []
    assert api.get("/api/alerts", params={"kind": "x"}, headers=vic).status_code == 400

    assert api.post(f"/api/alerts/{new['id']}/seen", headers=vic).status_code == 403
    marked = api.post(f"/api/alerts/{new['id']}/seen", headers=ana).json()
    assert marked["seen_by"] == "ana" and marked["seen_at"]
    link = api.post(
        f"/api/alerts/{new['id']}/incident",
        json={"incident_id": watched.incident_id},
        headers=ana,
    )
    assert link.status_code == 200 and link.json()["incident_id"] == watched.incident_id
    assert api.get("/api/alerts/2147483647", headers=vic).status_code == 404
    missing = api.post(
        "/api/alerts/2147483647/incident", json={"incident_id": watched.incident_id}, headers=ana
    )
    assert missing.status_code == 400


def test_sources_show_pages_waiting_and_the_last_page_error(
    store: Store, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Two posts whose pages could not be captured (Chromium missing): the page and the
    API show both waiting and why, as `watch list` does."""
    from testament.watch.page_capture import capture_post_pages

    ws.make_user(store, "vic", "viewer")
    monkeypatch.setenv(CHROMIUM_ENV, str(tmp_path / "no-chromium"))
    with serving(Site()) as site:
        channel = site.channel("pages")
        channel.post("first")
        channel.post("second")
        source_id = add_source(store, f"{site.base}/s/pages", "telegram").id
        watcher = Watcher(
            store,
            new_owner(),
            http=Http(rate=1000),
            notifier=Notifier(),
            page_capture=capture_post_pages,
        )
        Scheduler(store, watcher).poll_due()
    browser = ws.client(store)
    ws.login(browser, "vic")
    page = browser.get("/sources").text
    cell = re.search(rf'<tr id="source-{source_id}".*?<td class="pages">(.*?)</td>', page, re.S)
    assert cell is not None and cell.group(1).startswith("2<")
    assert "last page error: capturing pages needs headless Chromium" in cell.group(1)
    assert "no-chromium does not exist" in cell.group(1)
    (source,) = browser.get("/api/sources", headers=_bearer(store, "vic")).json()
    assert source["pages_waiting"] == 2
    assert "no-chromium does not exist" in source["last_page_error"]
