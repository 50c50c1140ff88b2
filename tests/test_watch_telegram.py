"""Telegram channels through the public web preview, served by a local server in its shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from testament.catalog.models import Asset, Capture
from testament.store import Store
from testament.watch.found import LayoutChanged
from testament.watch.models import Post, PostCapture, Source
from testament.watch.net import Http
from testament.watch.telegram_preview import parse_count, parse_page, poll
from tests.watch_site import Channel, Media, Site, message_html, serving
from tests.watch_support import due_now, media_bytes, watch_once


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'home' / 'catalog.sqlite'}"


@pytest.fixture
def site() -> Iterator[Site]:
    with serving(Site()) as running:
        yield running


def test_a_message_is_read_field_by_field(site: Site) -> None:
    channel = site.channel("frontline", "Front Line")
    photo, video = media_bytes()
    message = channel.post(
        "Line one\nLine <b>two</b> & more",
        [Media("photo", "p.jpg", photo), Media("video", "v.mp4", video)],
        author="Ivan P.",
        forwarded_from="otherchannel",
        views="12.5K",
        date=datetime(2024, 3, 1, 9, 30, tzinfo=UTC),
    )
    page = f"<div class='tgme_channel_info'></div>{message_html(site, channel, message)}"
    posts, before = parse_page(page, site.base)
    assert before == message.id
    (post,) = posts
    assert post.key == str(message.id)
    assert post.url == f"{site.base}/frontline/{message.id}"
    assert post.channel == "frontline"
    assert post.posted_at == datetime(2024, 3, 1, 9, 30, tzinfo=UTC)
    assert post.author == "Ivan P."
    assert post.forwarded_from == "otherchannel"
    assert post.views == 12_500
    assert post.text == "Line one\nLine <b>two</b> & more"  # entities decoded, kept as text
    assert [(m.kind, m.url) for m in post.media] == [
        ("photo", f"{site.base}/file/p.jpg"),
        ("video", f"{site.base}/file/v.mp4?token=x"),
    ]
    assert post.raw is not None and post.raw["album_ids"] == [message.id, message.id + 1]
    assert post.cursor == {"last_id": message.id + 1}


def test_counts_and_a_changed_layout() -> None:
    assert [parse_count(t) for t in ("950", "1.2K", "3M", "n/a")] == [950, 1200, 3_000_000, None]
    with pytest.raises(LayoutChanged):
        parse_page("<html><body><div class='new'>x</div></body></html>", "https://t.me")
    service = (
        "<div class='tgme_channel_info'></div><div class='tgme_widget_message service_message' "
        "data-post='c/1'><div class='message_media_not_supported'>Channel created</div></div>"
    )
    assert parse_page(service, "https://t.me") == ([], None)
    broken = "<div class='tgme_widget_message' data-post='c/5'><p>no date</p></div>"
    with pytest.raises(LayoutChanged, match="date"):
        parse_page(broken, "https://t.me")


def test_paging_back_to_since_then_only_new(site: Site) -> None:
    channel = site.channel("history")
    start = datetime(2024, 1, 1, tzinfo=UTC)
    for n in range(55):
        channel.post(f"post {n}", date=start + timedelta(days=n))
    http = Http(rate=1000)
    url = f"{site.base}/s/history"
    since = start + timedelta(days=10)
    found = list(poll(http, url, None, since))
    assert [p.text for p in found] == [f"post {n}" for n in range(10, 55)]  # oldest first
    pages = [path for _, path in site.requests]
    assert pages.count("/s/history") == 3  # three pages of twenty, back to the tenth day
    channel.post("post 55")
    newer = list(poll(http, url, found[-1].cursor, since))
    assert [p.text for p in newer] == ["post 55"]


def test_a_channel_is_preserved_post_by_post(store: Store, site: Site) -> None:
    channel = site.channel("reports")
    photo, video = media_bytes()
    channel.post("photo post", [Media("photo", "a.jpg", photo)], author="Admin")
    channel.post(
        "album", [Media("photo", "b.jpg", photo[:-2] + b"\xff\xd9"), Media("video", "v.mp4", video)]
    )
    channel.post("too big", [Media("video", "huge.mp4", None)])
    channel.post("just words")
    site.add_file("a.jpg", photo)
    site.add_file("b.jpg", photo[:-2] + b"\xff\xd9")
    site.add_file("v.mp4", video)
    source = watch_once(store, f"{site.base}/s/reports")
    with store.read() as session:
        posts = session.execute(select(Post).order_by(Post.id)).scalars().all()
        assert [p.text for p in posts] == ["photo post", "album", "too big", "just words"]
        assert [(p.media_count, p.missing_count) for p in posts] == [(1, 0), (2, 0), (0, 1), (0, 1)]
        capture = session.execute(
            select(Capture).join(PostCapture).where(PostCapture.post_id == posts[0].id)
        ).scalar_one()
        assert (capture.method, capture.platform, capture.channel) == (
            "watch",
            "telegram",
            "reports",
        )
        assert capture.url == f"{site.base}/reports/1" and capture.post_id == "1"
        assert capture.post_text == "photo post" and capture.posted_at == channel.messages[0].date
        asset = session.get(Asset, capture.asset_id)
        assert (
            asset is not None and store.blobs.open(asset.sha256).read() == photo
        )  # full size, as served
        row = session.get(Source, source)
        assert row is not None and row.cursor == {"last_id": channel.messages[-1].id}
        assert (row.posts_count, row.media_count, row.last_error) == (4, 3, None)
    assert {ua for ua in site.user_agents} == {Http().session.headers["User-Agent"]}
    # A second run finds nothing new and asks only for the first page.
    before = len(site.requests)
    due_now(store, source)
    watch_once(store, f"{site.base}/s/reports", add=False)
    assert [path for _, path in site.requests[before:]] == ["/s/reports"]
    with store.read() as session:
        assert session.execute(select(func.count(Post.id))).scalar() == 4


def test_hostile_post_text_is_stored_as_text_and_printed_inert(
    store: Store, site: Site, cli, tmp_path: Path
) -> None:
    hostile = (
        "<script>alert(document.cookie)</script> [bold red]markup[/] \x1b[31mred\x1b[0m "
        "$(rm -rf /) ' OR 1=1; --"
    )
    site.channel("hostile").post(hostile)
    watch_once(store, f"{site.base}/s/hostile")
    with store.read() as session:
        text = session.execute(select(Post.text)).scalar_one()
    assert text == hostile
    shown = cli("alerts").output
    assert "<script>alert(docum" in shown and "\x1b" not in shown  # no escape reaches a terminal
    (alert,) = json.loads(cli("alerts", "--json").output)
    assert alert["post"]["text"] == hostile


def test_channel_model_ids_follow_albums() -> None:
    channel = Channel("c", "C")
    first = channel.post("a", [Media("photo", "x", b""), Media("photo", "y", b"")])
    assert (first.id, channel.post("b").id) == (1, 3)
