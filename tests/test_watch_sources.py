"""Sources: the kind guessed from the address, the CLI, feeds, yt-dlp listings and folders."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from testament.catalog.models import Capture
from testament.store import Store
from testament.watch.models import Post, Source
from testament.watch.sources import SourceError, guess_kind, parse_duration
from tests.watch_site import Site, serving
from tests.watch_support import due_now, media_bytes, watch_once


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'home' / 'catalog.sqlite'}"


@pytest.fixture
def site() -> Iterator[Site]:
    with serving(Site()) as running:
        yield running


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("https://t.me/s/somechannel", "telegram"),
        ("https://t.me/somechannel", "telegram"),
        ("https://example.org/feed.xml", "feed"),
        ("https://example.org/blog/rss", "feed"),
        ("https://www.youtube.com/@someone", "ytdlp"),
        ("~/incoming", "folder"),
    ],
)
def test_the_kind_is_guessed_from_the_address(address: str, kind: str) -> None:
    assert guess_kind(address) == kind


def test_durations() -> None:
    assert parse_duration("15m") == timedelta(minutes=15)
    assert parse_duration("7d") == timedelta(days=7)
    with pytest.raises(SourceError, match="not a duration"):
        parse_duration("soon")


def test_the_cli_adds_lists_pauses_resumes_and_removes(cli, tmp_path: Path) -> None:
    assert cli("init").exit_code == 0
    added = cli("watch", "add", "http://127.0.0.1:9/s/chan", "--kind", "telegram", "--every", "30m")
    assert added.exit_code == 0 and "source 1: telegram" in added.output
    folder = tmp_path / "incoming"
    folder.mkdir()
    assert cli("watch", "add", str(folder), "--since", "2020-12-10").exit_code == 0
    listed = json.loads(cli("watch", "list", "--json").output)
    assert [(s["id"], s["kind"], s["every_seconds"]) for s in listed] == [
        (1, "telegram", 1800),
        (2, "folder", 900),
    ]
    assert listed[1]["since"] == "2020-12-10T00:00:00Z" and listed[1]["last_run_at"] is None
    assert cli("watch", "pause", "1").output.strip() == "source 1: paused"
    assert json.loads(cli("watch", "list", "--json").output)[0]["status"] == "paused"
    assert cli("watch", "resume", "1").exit_code == 0
    assert cli("watch", "remove", "2").exit_code == 0
    assert [s["id"] for s in json.loads(cli("watch", "list", "--json").output)] == [1]
    table = cli("watch", "list").output
    assert "chan" in table and "30m" in table
    again = cli("watch", "add", "http://127.0.0.1:9/s/chan", "--kind", "telegram")
    assert again.exit_code == 2 and "already watched (source 1)" in again.output
    bad = cli("watch", "add", "http://127.0.0.1:9/s/x", "--every", "often")
    assert bad.exit_code == 2 and len(bad.output.strip().splitlines()) == 1
    assert cli("watch", "pause", "99").exit_code == 2


def _rss(site: Site, items: list[tuple[str, str, str]]) -> str:
    entries = "".join(
        f"<item><title>{title}</title><guid>{guid}</guid><link>{site.base}/post/{guid}</link>"
        f'<enclosure url="{site.base}/file/{name}" type="video/mp4" length="1"/>'
        f"<pubDate>Mon, 0{n + 1} Jan 2024 10:00:00 GMT</pubDate></item>"
        for n, (guid, title, name) in enumerate(items)
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Clips</title>'
        f"<link>{site.base}</link><description>d</description>{entries}</channel></rss>"
    )


def test_a_feed_is_followed_by_entry_id_with_its_enclosures(store: Store, site: Site) -> None:
    site.add_file("one.mp4", media_bytes(3)[1])
    site.add_file("two.mp4", media_bytes(4)[1])
    site.feeds["clips.xml"] = _rss(site, [("clip-1", "One", "one.mp4")])
    source = watch_once(store, f"{site.base}/feed/clips.xml", kind="feed")
    site.feeds["clips.xml"] = _rss(
        site, [("clip-1", "One", "one.mp4"), ("clip-2", "Two", "two.mp4")]
    )
    due_now(store, source)
    watch_once(store, f"{site.base}/feed/clips.xml", add=False)
    with store.read() as session:
        posts = session.execute(select(Post).order_by(Post.id)).scalars().all()
        assert [(p.post_key, p.text, p.media_count) for p in posts] == [
            ("clip-1", "One", 1),
            ("clip-2", "Two", 1),
        ]
        assert posts[0].url == f"{site.base}/post/clip-1"


def test_a_ytdlp_listing_is_followed_by_entry_id(store: Store, site: Site) -> None:
    site.add_file("one.mp4", media_bytes(5)[1])
    site.feeds["list.xml"] = _rss(site, [("v-1", "First", "one.mp4")]).replace(
        f"<link>{site.base}/post/v-1</link>", f"<link>{site.base}/file/one.mp4</link>"
    )
    watch_once(store, f"{site.base}/feed/list.xml", kind="ytdlp")
    with store.read() as session:
        post = session.execute(select(Post)).scalar_one()
        assert (post.post_key, post.text, post.media_count) == ("v-1", "First", 1)
        capture = session.execute(select(Capture).where(Capture.asset_id.is_not(None))).scalar_one()
        assert capture.method == "watch" and capture.tool and capture.tool.startswith("yt-dlp")


def test_a_folder_takes_settled_files_once(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    (folder / "sub").mkdir(parents=True)
    old = time.time() - 60
    for name, seed in (("a.jpg", 1), ("sub/b.mp4", 2)):
        path = folder / name
        path.write_bytes(media_bytes(seed)[0 if name.endswith("jpg") else 1])
        os.utime(path, (old, old))
    (folder / "writing.mp4").write_bytes(b"half a file")  # just changed: not yet settled
    source = watch_once(store, str(folder), kind="folder")
    with store.read() as session:
        taken = sorted(p.raw["path"] for p in session.execute(select(Post)).scalars() if p.raw)
    assert taken == ["a.jpg", "sub/b.mp4"]
    (folder / "writing.mp4").write_bytes(media_bytes(3)[1])  # finished
    os.utime(folder / "writing.mp4", (old, old))
    due_now(store, source)
    watch_once(store, str(folder), add=False)
    with store.read() as session:
        posts = session.execute(select(Post).order_by(Post.id)).scalars().all()
        assert [p.raw["path"] for p in posts if p.raw] == ["a.jpg", "sub/b.mp4", "writing.mp4"]
        row = session.get(Source, source)
        assert row is not None and row.posts_count == 3


def test_watch_run_keeps_polling_until_stopped(store: Store, site: Site) -> None:
    import signal
    import subprocess
    import sys

    from testament import config
    from testament.watch.net import RATE_ENV
    from testament.watch.sources import add_source

    channel = site.channel("live")
    channel.post("before the watcher started")
    add_source(store, f"{site.base}/s/live", "telegram", every=timedelta(seconds=1))
    env = {
        **os.environ,
        config.HOME_ENV: str(store.settings.home),
        config.DATABASE_ENV: store.settings.database_url,
        RATE_ENV: "1000",
    }
    watcher = subprocess.Popen(
        [sys.executable, "-m", "testament", "watch", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        posted = False
        while time.monotonic() < deadline:
            with store.read() as session:
                texts = list(session.execute(select(Post.text)).scalars())
            if texts and not posted:
                channel.post("while it was running")
                posted = True
            if len(texts) == 2:
                break
            time.sleep(0.1)
        assert texts == ["before the watcher started", "while it was running"]
    finally:
        watcher.send_signal(signal.SIGTERM)
        stdout, stderr = watcher.communicate(timeout=60)
    assert watcher.returncode == 0, stderr
    assert "watching; Ctrl-C to stop" in stdout and "source 1: 1 new post" in stdout
