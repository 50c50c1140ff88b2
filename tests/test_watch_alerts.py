"""Alerts: new and known footage, missing media, and their delivery by webhook and SMTP."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import Message as EmailMessage
from email.parser import BytesParser
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from testament.accounts.models import User
from testament.collect.ingest import Ingest
from testament.collect.items import Item, Sighting
from testament.investigate.models import Incident, IncidentAsset
from testament.store import Store
from testament.watch.alerts import list_alerts
from testament.watch.models import Alert
from testament.watch.notify import Notifier, deliver
from tests.media import make_video
from tests.watch_site import Media, Site, serving
from tests.watch_support import media_bytes, watch_once


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'home' / 'catalog.sqlite'}"


@pytest.fixture
def site() -> Iterator[Site]:
    with serving(Site()) as running:
        yield running


class Mailbox:
    """aiosmtpd handler keeping every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(BytesParser().parsebytes(envelope.content))  # type: ignore[attr-defined]
        self.arrived.set()
        return "250 OK"


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks its port by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


def _known_video(store: Store, folder: Path) -> tuple[bytes, int]:
    """A video already in the locker (seen earlier elsewhere), supporting an incident."""
    path = make_video(folder / "earlier.mp4", seconds=1.0, width=160, height=90, seed=77)
    seen = Sighting(
        method="file",
        platform="x",
        url="https://x.example/earlier/1",
        posted_at=datetime(2023, 5, 1, tzinfo=UTC),
    )
    Ingest(store).run([Item("earlier.mp4", seen, path=path)])
    with store.write() as session:
        user = User(username="analyst", role="analyst", password_hash="-")
        session.add(user)
        session.flush()
        incident = Incident(title="Shelling of the market", created_by_id=user.id)
        session.add(incident)
        session.flush()
        from testament.catalog.models import Asset

        asset = session.execute(select(Asset)).scalar_one()
        session.add(IncidentAsset(incident_id=incident.id, asset_id=asset.id))
        return path.read_bytes(), incident.id


def test_each_new_post_gets_one_alert_saying_what_it_is(
    store: Store, site: Site, tmp_path: Path, cli
) -> None:
    known, incident_id = _known_video(store, tmp_path)
    fresh = media_bytes(9)[1]
    site.add_file("known.mp4", known)
    site.add_file("fresh.mp4", fresh)
    channel = site.channel("alerts")
    channel.post("a copy", [Media("video", "known.mp4", known)])
    channel.post("never seen", [Media("video", "fresh.mp4", fresh)])
    channel.post("too big", [Media("video", "big.mp4", None)])
    channel.post("gone", [Media("photo", "deleted.jpg", b"")])  # the server answers 404
    watch_once(store, f"{site.base}/s/alerts")
    found = list(reversed(list_alerts(store)))
    assert [a["kind"] for a in found] == [
        "known_footage",
        "new_footage",
        "media_missing",
        "media_missing",
    ]
    copy = found[0]["details"]
    assert copy["incidents"] == [{"id": incident_id, "title": "Shelling of the market"}]
    assert copy["earliest_capture"]["url"] == "https://x.example/earlier/1"
    assert copy["earliest_capture"]["posted_at"] == "2023-05-01T00:00:00Z"
    assert "too large" in found[2]["details"]["missing"][0]["reason"]
    assert "HTTP 404" in found[3]["details"]["missing"][0]["reason"]
    assert found[1]["post"]["text"] == "never seen"
    listed = json.loads(cli("alerts", "--json", "--kind", "media_missing").output)
    assert [a["post"]["text"] for a in listed] == ["gone", "too big"]
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert json.loads(cli("alerts", "--json", "--since", tomorrow).output) == []
    table = cli("alerts").output
    assert "known_footage" in table and f"#{incident_id}" in table
    assert cli("alerts", "--kind", "nonsense").exit_code == 2


def test_alerts_go_to_a_webhook_and_by_email(
    store: Store, site: Site, mailbox: tuple[Mailbox, int]
) -> None:
    box, port = mailbox
    photo = media_bytes(12)[0]
    site.add_file("p.jpg", photo)
    site.channel("notify").post("Тревога <b>now</b>", [Media("photo", "p.jpg", photo)])
    notifier = Notifier(
        webhook=f"{site.base}/hook",
        email_to=("team@example.org",),
        smtp_host="127.0.0.1",
        smtp_port=port,
    )
    watch_once(store, f"{site.base}/s/notify", notifier=notifier)
    (payload,) = site.received
    assert payload["kind"] == "new_footage" and payload["post"]["text"] == "Тревога <b>now</b>"
    assert box.arrived.wait(10)
    (mail,) = box.messages
    assert mail["To"] == "team@example.org" and mail["Subject"].startswith(
        "[testament] new_footage"
    )
    assert mail.get_content_type() == "text/plain"
    assert "Тревога <b>now</b>" in mail.get_payload(decode=True).decode("utf-8")
    with store.read() as session:
        alert = session.execute(select(Alert)).scalar_one()
        assert alert.notified_at is not None and alert.notify_error is None


def test_an_alert_not_delivered_is_delivered_later(store: Store, site: Site) -> None:
    site.channel("later").post("words only")
    down = Notifier(webhook="http://127.0.0.1:9/hook")  # nothing listens on the discard port
    watch_once(store, f"{site.base}/s/later", notifier=down)
    with store.read() as session:
        alert = session.execute(select(Alert)).scalar_one()
        assert alert.notified_at is None and "ConnectionError" in (alert.notify_error or "")
    assert deliver(store, Notifier(webhook=f"{site.base}/hook")) == 1
    assert [p["kind"] for p in site.received] == ["media_missing"]
    assert deliver(store, Notifier(webhook=f"{site.base}/hook")) == 0  # once delivered, done


def test_a_repost_in_the_same_round_is_known_and_the_first_post_is_new(
    store: Store, site: Site
) -> None:
    clip = media_bytes(14)[1]
    site.add_file("clip.mp4", clip)
    channel = site.channel("reposts")
    channel.post("first", [Media("video", "clip.mp4", clip)])
    channel.post("in between")
    channel.post("again", [Media("video", "clip.mp4", clip)])
    watch_once(store, f"{site.base}/s/reposts")
    found = {a["post"]["text"]: a for a in list_alerts(store)}
    assert found["first"]["kind"] == "new_footage"
    assert found["again"]["kind"] == "known_footage"
    assert found["again"]["details"]["earliest_capture"]["url"] == f"{site.base}/reposts/1"


def test_with_page_capture_on_each_new_posts_page_is_preserved(
    store: Store, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    from testament.watch.page_browser import BrowserUnavailable, chromium_path
    from testament.watch.page_records import PageCapture
    from testament.watch.scheduler import PAGE_CAPTURE_ENV, page_capture_hook
    from tests.system import need

    try:
        chromium_path()
    except BrowserUnavailable as exc:
        need(False, str(exc))
    assert page_capture_hook() is None  # off unless asked for
    monkeypatch.setenv(PAGE_CAPTURE_ENV, "1")
    hook = page_capture_hook()
    assert hook is not None
    channel = site.channel("paged")
    channel.post("words only")
    channel.post("more words")
    from testament.watch.lease import new_owner
    from testament.watch.net import Http
    from testament.watch.poller import Watcher
    from testament.watch.scheduler import Scheduler
    from testament.watch.sources import add_source

    add_source(store, f"{site.base}/s/paged", "telegram")
    watcher = Watcher(
        store, new_owner(), http=Http(rate=1000), notifier=Notifier(), page_capture=hook
    )
    Scheduler(store, watcher).poll_due()
    with store.read() as session:
        pages = session.execute(select(PageCapture).order_by(PageCapture.id)).scalars().all()
        assert sorted(p.url for p in pages) == [f"{site.base}/paged/1", f"{site.base}/paged/2"]
