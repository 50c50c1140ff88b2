"""Public Telegram channels through their web preview (https://t.me/s/<channel>), no account.

The preview lists about twenty messages a page, oldest first; `?before=<id>` gives the
page before. A first run pages back to the source's `since` date, later runs back to the
last message committed (the cursor). Photos are taken from the preview's full-size image
links and videos from their `<video src>`; a video the preview does not serve (too large)
is reported as missing media, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from testament.watch.found import FoundMedia, FoundPost, LayoutChanged
from testament.watch.net import Http

MAX_PAGES = 10_000  # a guard against a server that keeps answering the same page
BACKGROUND_URL = re.compile(r"background-image:\s*url\(['\"]?([^'\")]+)['\"]?\)")
COUNT = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([KMB]?)$")
TOO_BIG = "the web preview does not serve this video (too large); the Telethon client can"


def channel_of(url: str) -> tuple[str, str]:
    """The preview's base address and channel name, from t.me/s/<name> or t.me/<name>."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[0] == "s":
        segments = segments[1:]
    if not segments or not re.fullmatch(r"[A-Za-z0-9_]{1,64}", segments[0]):
        raise ValueError(f"{url}: not a Telegram channel address (https://t.me/s/<channel>)")
    return f"{parts.scheme}://{parts.netloc}", segments[0]


def parse_count(text: str) -> int | None:
    """Telegram's shortened counts: 950, 1.2K, 3M."""
    found = COUNT.match(text.strip())
    if not found:
        return None
    scale = {"": 1, "K": 1_000, "M": 1_000_000, "B": 1_000_000_000}[found.group(2)]
    return int(float(found.group(1)) * scale)


def _text(node: LexborNode | None) -> str | None:
    if node is None:
        return None
    for br in node.css("br"):
        br.replace_with("\n")
    text = node.text(deep=True).strip()
    return text or None


def _id_of(href: str | None) -> str | None:
    if not href:
        return None
    last = urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]
    return last if last.isdigit() else None


def _media(message: LexborNode, base: str) -> list[FoundMedia]:
    """Every photo and video of a message, in page order (an album has several)."""
    found = []
    selector = ".tgme_widget_message_photo_wrap, .tgme_widget_message_video_player"
    for node in message.css(selector):
        classes = (node.attributes.get("class") or "").split()
        item_id = _id_of(node.attributes.get("href"))
        if "tgme_widget_message_photo_wrap" in classes:
            style = node.attributes.get("style") or ""
            link = BACKGROUND_URL.search(style)
            if link is None:
                raise LayoutChanged("a photo without its image link")
            found.append(FoundMedia("photo", url=urljoin(base, link.group(1)), post_id=item_id))
            continue
        video = node.css_first("video")
        src = video.attributes.get("src") if video is not None else None
        if src:
            found.append(FoundMedia("video", url=urljoin(base, src), post_id=item_id))
        else:
            found.append(FoundMedia("video", missing_reason=TOO_BIG, post_id=item_id))
    return found


def _posted_at(message: LexborNode) -> datetime:
    time_node = message.css_first(".tgme_widget_message_date time")
    stamp = time_node.attributes.get("datetime") if time_node is not None else None
    if not stamp:
        raise LayoutChanged("a message without its date")
    try:
        return datetime.fromisoformat(stamp).astimezone(UTC)
    except ValueError:
        raise LayoutChanged(f"a message date that is not a date ({stamp!r})") from None


def parse_message(message: LexborNode, base: str) -> FoundPost:
    """One `tgme_widget_message` as a post."""
    data_post = message.attributes.get("data-post") or ""
    channel, _, number = data_post.rpartition("/")
    if not channel or not number.isdigit():
        raise LayoutChanged(f"a message without its channel and number ({data_post!r})")
    media = _media(message, base)
    ids = [int(number)] + [int(m.post_id) for m in media if m.post_id]
    forwarded = message.css_first(".tgme_widget_message_forwarded_from_name")
    views = message.css_first(".tgme_widget_message_views")
    owner = message.css_first(".tgme_widget_message_owner_name")
    raw: dict[str, Any] = {
        "data_post": data_post,
        "album_ids": sorted(set(ids)) if len(media) > 1 else None,
        "channel_title": _text(owner),
        "forwarded_from_url": forwarded.attributes.get("href") if forwarded else None,
        "views_shown": _text(views),
    }
    return FoundPost(
        key=number,
        url=f"{base}/{channel}/{number}",
        platform="telegram",
        channel=channel,
        posted_at=_posted_at(message),
        author=_text(message.css_first(".tgme_widget_message_from_author")),
        text=_text(message.css_first(".tgme_widget_message_text")),
        forwarded_from=_text(forwarded),
        views=parse_count(_text(views) or ""),
        media=tuple(media),
        raw=raw,
        cursor={"last_id": max(ids)},
    )


def parse_page(html: str, base: str) -> tuple[list[FoundPost], int | None]:
    """The posts of one preview page, oldest first, and the `before` of the page before it."""
    tree = LexborHTMLParser(html)
    # Service messages (channel created, photo changed) carry no post to preserve.
    messages = [
        m
        for m in tree.css(".tgme_widget_message[data-post]")
        if "service_message" not in (m.attributes.get("class") or "").split()
    ]
    if not messages and tree.css_first(".tgme_channel_info, .tgme_page") is None:
        raise LayoutChanged("no channel and no messages in the page")
    posts = sorted((parse_message(m, base) for m in messages), key=lambda p: int(p.key))
    more = tree.css_first(".tme_messages_more[data-before]")
    before = more.attributes.get("data-before") if more is not None else None
    if before and before.isdigit():
        return posts, int(before)
    return posts, (int(posts[0].key) if posts else None)


def poll(
    http: Http, url: str, cursor: dict[str, Any] | None, since: datetime | None
) -> Iterator[FoundPost]:
    """Posts newer than the cursor (or, on a first run, posted since `since`), oldest first."""
    base, channel = channel_of(url)
    last_id = int((cursor or {}).get("last_id", 0))
    pages: list[list[FoundPost]] = []
    address = f"{base}/s/{channel}"
    previous_before: int | None = None
    for _ in range(MAX_PAGES):
        posts, before = parse_page(http.get(address).text, base)
        fresh = [
            p
            for p in posts
            if int(p.cursor["last_id"]) > last_id  # type: ignore[index]
            and (last_id or since is None or p.posted_at is None or p.posted_at >= since)
        ]
        pages.append(fresh)
        reached = not posts or len(fresh) < len(posts)
        if reached or before is None or before <= 1 or before == previous_before:
            break
        previous_before = before
        address = f"{base}/s/{channel}?before={before}"
    seen: set[str] = set()
    for page in reversed(pages):
        for post in page:
            if post.key not in seen:
                seen.add(post.key)
                yield post
