"""RSS and Atom feeds (feedparser): each entry a post, its enclosures and link its media.

Enclosures are downloaded as they are; an entry without enclosures has its link handed
to yt-dlp (collect/urls.py), which finds the video of a post page, or says there is none.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import urljoin

import feedparser

from testament.collect.items import Sighting
from testament.collect.urls import fetch_url
from testament.watch.found import FoundMedia, FoundPost, LayoutChanged
from testament.watch.net import Http

KINDS = {"video": "video", "image": "photo", "audio": "file"}


def _when(entry: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed"):
        parsed = entry.get(name)
        if parsed:
            return datetime.fromtimestamp(calendar.timegm(parsed), UTC)
    return None


def _media(entry: Any, base: str) -> tuple[FoundMedia, ...]:
    enclosures = [e for e in entry.get("enclosures") or () if e.get("href")]
    if enclosures:
        return tuple(
            FoundMedia(
                KINDS.get(str(e.get("type") or "").split("/")[0], "file"),
                url=urljoin(base, e["href"]),
            )
            for e in enclosures
        )
    link = entry.get("link")
    if not link:
        return ()
    link = urljoin(base, link)
    context = Sighting(method="watch", url=link)
    return (FoundMedia("video", fetch=partial(fetch_url, link, context)),)


def parse_feed(content: bytes, url: str) -> list[FoundPost]:
    """Every entry of a feed, oldest first."""
    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        raise LayoutChanged(f"not an RSS or Atom feed ({parsed.get('bozo_exception')})")
    title = parsed.feed.get("title")
    posts = []
    for order, entry in enumerate(parsed.entries):
        key = entry.get("id") or entry.get("link")
        if not key:
            raise LayoutChanged("a feed entry with neither id nor link")
        text = "\n\n".join(t for t in (entry.get("title"), entry.get("summary")) if t) or None
        posts.append(
            FoundPost(
                key=str(key)[:200],
                url=urljoin(url, entry["link"]) if entry.get("link") else None,
                platform="feed",
                channel=title,
                channel_id=url,
                posted_at=_when(entry),
                author=entry.get("author"),
                text=text,
                media=_media(entry, url),
                raw={"feed": url, "entry_id": str(key), "position": order},
            )
        )
    # Feeds list newest first; entries without dates keep the feed's order, reversed.
    undated = [p for p in reversed(posts) if p.posted_at is None]
    dated = sorted((p for p in posts if p.posted_at is not None), key=lambda p: p.posted_at)
    return undated + dated


def poll(
    http: Http, url: str, cursor: dict[str, Any] | None, since: datetime | None
) -> Iterator[FoundPost]:
    """Entries posted since `since` (those already collected are skipped by the poller)."""
    page = http.get(url)
    for post in parse_feed(page.text.encode("utf-8"), url):
        if cursor is None and since and post.posted_at and post.posted_at < since:
            continue
        yield post
