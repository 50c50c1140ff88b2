"""URL collection with yt-dlp, against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from testament.catalog.models import Asset, Capture
from testament.collect.ingest import Ingest, Outcome, Summary
from testament.collect.items import Item, Sighting
from testament.collect.urls import collect_url, is_url, ytdlp_version
from testament.store import Store
from tests.media import make_video

# Served as the clip's Last-Modified, which yt-dlp's generic extractor takes as its timestamp.
CLIP_MODIFIED = datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)
Cli = Callable[..., Any]
PAGE = """<!doctype html>
<html><head><title>Two clips</title></head>
<body><video src="clip.mp4"></video><video src="other.mp4"></video></body></html>
"""


@dataclass(frozen=True)
class Site:
    base: str
    folder: Path

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def sha256(self, name: str) -> str:
        return hashlib.sha256((self.folder / name).read_bytes()).hexdigest()


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Two clips and a page embedding both, served on a free local port."""
    folder = tmp_path_factory.mktemp("site")
    clip = make_video(folder / "clip.mp4", seconds=1.0, seed=1)
    os.utime(clip, (CLIP_MODIFIED.timestamp(), CLIP_MODIFIED.timestamp()))
    make_video(folder / "other.mp4", seconds=1.0, seed=2)
    (folder / "page.html").write_text(PAGE, encoding="utf-8")
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", folder)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _ingest(store: Store, url: str, context: Sighting | None = None) -> Summary:
    return Ingest(store).run(collect_url(url, context or Sighting(method="file")))


def _captures(store: Store) -> list[Capture]:
    with store.read() as session:
        return list(session.execute(select(Capture).order_by(Capture.id)).scalars())


def _asset_count(store: Store) -> int:
    with store.read() as session:
        return session.execute(select(func.count()).select_from(Asset)).scalar_one()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://t.me/somechannel/123", True),
        ("http://127.0.0.1:8000/clip.mp4", True),
        ("HTTPS://EXAMPLE.ORG/a", True),
        ("ftp://example.org/clip.mp4", False),
        ("file:///tmp/clip.mp4", False),
        ("/tmp/clip.mp4", False),
        ("clip.mp4", False),
        ("C:\\footage\\clip.mp4", False),
        ("http://", False),
        ("http://[", False),
    ],
)
def test_is_url_accepts_only_web_addresses(text: str, expected: bool) -> None:
    assert is_url(text) is expected


def test_collecting_names_the_url_without_fetching() -> None:
    context = Sighting(method="file", platform="telegram", note="seen in a repost")
    [item] = collect_url("http://127.0.0.1:9/unreachable.mp4", context)
    assert isinstance(item, Item)
    assert item.label == "http://127.0.0.1:9/unreachable.mp4"
    assert item.fetch is not None and item.path is None
    assert item.sighting == Sighting(
        method="url",
        url="http://127.0.0.1:9/unreachable.mp4",
        platform="telegram",
        note="seen in a repost",
    )


def test_url_is_preserved_byte_for_byte_with_its_metadata(store: Store, site: Site) -> None:
    url = site.url("clip.mp4")
    summary = _ingest(store, url)

    [result] = summary.results
    assert result.outcome is Outcome.PRESERVED, result.message
    assert result.sha256 == site.sha256("clip.mp4")
    path = store.blobs.local_path(result.sha256)
    assert path is not None
    assert hashlib.sha256(path.read_bytes()).hexdigest() == result.sha256

    [capture] = _captures(store)
    assert capture.method == "url"
    assert capture.platform == "generic"
    assert capture.url == url
    assert capture.post_id == "clip"
    assert capture.filename == "clip.mp4"
    assert capture.posted_at == CLIP_MODIFIED
    assert capture.tool == f"yt-dlp {ytdlp_version()}"
    assert capture.raw is not None
    assert capture.raw["extractor_key"] == "Generic"
    assert capture.raw["original_url"] == url
    assert "formats" not in capture.raw and "requested_downloads" not in capture.raw


def test_same_url_again_adds_nothing(store: Store, site: Site) -> None:
    url = site.url("clip.mp4")
    _ingest(store, url)
    [result] = _ingest(store, url).results
    assert result.outcome is Outcome.ALREADY_PRESENT
    assert not result.new_capture
    assert _asset_count(store) == 1
    assert len(_captures(store)) == 1


def test_page_with_two_videos_gives_two_assets(store: Store, site: Site) -> None:
    url = site.url("page.html")
    summary = _ingest(store, url)

    assert [r.outcome for r in summary.results] == [Outcome.PRESERVED, Outcome.PRESERVED]
    assert {r.sha256 for r in summary.results} == {
        site.sha256("clip.mp4"),
        site.sha256("other.mp4"),
    }
    captures = _captures(store)
    assert [c.url for c in captures] == [url, url]
    assert len({c.post_id for c in captures}) == 2
    assert all(c.post_text and c.post_text.startswith("Two clips") for c in captures)


def test_missing_url_fails_in_one_line_and_keeps_nothing(store: Store, site: Site) -> None:
    url = site.url("deleted.mp4")
    [result] = _ingest(store, url).results

    assert result.outcome is Outcome.FAILED
    assert result.message is not None
    assert result.message.startswith(f"download failed: {url}: ")
    assert "HTTP Error 404" in result.message
    assert "ERROR" not in result.message
    assert "\n" not in result.message and "\x1b" not in result.message
    assert _asset_count(store) == 0
    assert _captures(store) == []
    assert list(store.blobs.iter_sha256()) == []


def test_cli_merges_what_the_investigator_says(store: Store, cli: Cli, site: Site) -> None:
    url = site.url("clip.mp4")
    result = cli("ingest", url, "--platform", "telegram", "--channel", "@somechannel")
    assert result.exit_code == 0, result.output
    assert "1 preserved" in result.output

    [capture] = _captures(store)
    assert capture.method == "url"
    assert capture.platform == "telegram"
    assert capture.channel == "@somechannel"
    assert capture.url == url
    assert capture.posted_at == CLIP_MODIFIED
    assert capture.tool == f"yt-dlp {ytdlp_version()}"
    assert capture.raw is not None and capture.raw["extractor"] == "generic"

    again = cli("ingest", url, "--platform", "telegram", "--channel", "@somechannel")
    assert again.exit_code == 0, again.output
    assert "(0 new captures)" in again.output
    assert len(_captures(store)) == 1


def test_cli_exits_1_when_a_url_cannot_be_fetched(store: Store, cli: Cli, site: Site) -> None:
    result = cli("ingest", site.url("deleted.mp4"))
    assert result.exit_code == 1
    assert "1 failed" in result.output
    assert _captures(store) == []
