"""A local web server playing Telegram's public channel preview (and feeds, and a webhook).

Pages follow the real preview's markup (t.me/s/<channel>): `tgme_widget_message` blocks with
`data-post`, the owner's name, forwarded-from, photo wraps with background-image links,
video players with `<video src>`, grouped albums, the text, views, the author signature
and a `<time datetime>`; twenty messages a page, older pages through `?before=<id>` and the
`tme_messages_more` link. Post pages answer `?embed=1` with the message or "Post not found".
"""

# ruff: noqa: E501 - the pages are kept in the shape of the real markup, one element a line

from __future__ import annotations

import contextlib
import html
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

PAGE_SIZE = 20


@dataclass
class Media:
    kind: str  # photo or video
    name: str
    data: bytes | None  # None: the preview does not serve it (too large)


@dataclass
class Message:
    id: int
    date: datetime
    text: str = ""
    author: str | None = None
    forwarded_from: str | None = None
    views: str = "1.2K"
    media: list[Media] = field(default_factory=list)
    deleted: bool = False


@dataclass
class Channel:
    name: str
    title: str
    messages: list[Message] = field(default_factory=list)
    # "429", "500", "slow", "layout": how the channel's pages misbehave
    failure: str | None = None
    next_id: int = 1

    def post(self, text: str = "", media: list[Media] | None = None, **kw: object) -> Message:
        start = datetime(2024, 1, 1, tzinfo=UTC) + timedelta(hours=self.next_id)
        message = Message(self.next_id, kw.pop("date", start), text, media=media or [], **kw)  # type: ignore[arg-type]
        # An album takes one id per item, as on Telegram.
        self.next_id += max(1, len(message.media))
        self.messages.append(message)
        return message


def _media_html(site: Site, channel: Channel, message: Message) -> str:
    parts = []
    for offset, media in enumerate(message.media):
        single = f"{site.base}/{channel.name}/{message.id + offset}?single"
        if media.kind == "photo":
            parts.append(
                f'<a class="tgme_widget_message_photo_wrap grouped_media_wrap blured '
                f'js-message_photo" style="width:200px;background-image:url(\''
                f'{site.base}/file/{media.name}\')" data-ratio="1" href="{single}"></a>'
            )
        elif media.data is None:
            parts.append(
                f'<a class="tgme_widget_message_video_player not_supported js-message_video_player" '
                f'href="{single}"><i class="tgme_widget_message_video_thumb" '
                f"style=\"background-image:url('{site.base}/file/thumb.jpg')\"></i>"
                '<div class="message_media_not_supported"><div class="message_media_not_supported_label">'
                "Media is too big</div></div></a>"
            )
        else:
            parts.append(
                f'<a class="tgme_widget_message_video_player js-message_video_player" href="{single}">'
                f'<i class="tgme_widget_message_video_thumb" style="background-image:url(\''
                f"{site.base}/file/thumb.jpg')\"></i>"
                '<div class="tgme_widget_message_video_wrap">'
                f'<video src="{site.base}/file/{media.name}?token=x" class="tgme_widget_message_video '
                'js-message_video" width="100%" height="100%"></video></div></a>'
            )
    if len(parts) > 1:
        return (
            '<div class="tgme_widget_message_grouped_wrap js-message_grouped_wrap">'
            '<div class="tgme_widget_message_grouped js-message_grouped">'
            f'<div class="tgme_widget_message_grouped_layer">{"".join(parts)}</div></div></div>'
        )
    return "".join(parts)


def message_html(site: Site, channel: Channel, message: Message) -> str:
    forwarded = ""
    if message.forwarded_from:
        forwarded = (
            '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from '
            f'<a class="tgme_widget_message_forwarded_from_name" href="https://t.me/'
            f'{html.escape(message.forwarded_from)}"><span dir="auto">'
            f"{html.escape(message.forwarded_from)}</span></a></div>"
        )
    text = ""
    if message.text:
        body = "<br/>".join(html.escape(line) for line in message.text.split("\n"))
        text = f'<div class="tgme_widget_message_text js-message_text" dir="auto">{body}</div>'
    author = ""
    if message.author:
        author = (
            f'<span class="tgme_widget_message_from_author" dir="auto">'
            f"{html.escape(message.author)}</span>&nbsp;"
        )
    stamp = message.date.isoformat()
    return f"""
<div class="tgme_widget_message_wrap js-widget_message_wrap">
 <div class="tgme_widget_message text_not_supported_wrap js-widget_message" data-post="{channel.name}/{message.id}" data-view="x">
  <div class="tgme_widget_message_user"><a href="{site.base}/{channel.name}"><i class="tgme_widget_message_user_photo"></i></a></div>
  <div class="tgme_widget_message_bubble">
   <div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" href="{site.base}/{channel.name}"><span dir="auto">{html.escape(channel.title)}</span></a></div>
   {forwarded}{_media_html(site, channel, message)}{text}
   <div class="tgme_widget_message_footer compact js-message_footer">
    <div class="tgme_widget_message_info short js-message_info">
     <span class="tgme_widget_message_views">{message.views}</span>{author}
     <span class="tgme_widget_message_meta"><a class="tgme_widget_message_date" href="{site.base}/{channel.name}/{message.id}"><time datetime="{stamp}" class="time">{message.date:%H:%M}</time></a></span>
    </div>
   </div>
  </div>
 </div>
</div>"""


def channel_page(site: Site, channel: Channel, before: int | None) -> str:
    if channel.failure == "layout":
        return "<html><body><div class='new_design'>We changed everything</div></body></html>"
    live = [m for m in channel.messages if not m.deleted and (before is None or m.id < before)]
    page = live[-PAGE_SIZE:]
    more = ""
    if page and any(m.id < page[0].id for m in live):
        more = (
            '<div class="tgme_widget_message_centered js-messages_more_wrap">'
            f'<a href="/s/{channel.name}?before={page[0].id}" class="tme_messages_more '
            f'js-messages_more" data-before="{page[0].id}"></a></div>'
        )
    body = "".join(message_html(site, channel, m) for m in page)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(channel.title)} – Telegram</title></head>
<body class="widget_frame_base tgme_webpage">
<header class="tgme_header"><div class="tgme_channel_info"><div class="tgme_channel_info_header_title"><span dir="auto">{html.escape(channel.title)}</span></div>
<div class="tgme_channel_info_header_username"><a href="{site.base}/{channel.name}">@{channel.name}</a></div></div></header>
<main class="tgme_main"><section class="tgme_channel_history js-message_history">{more}{body}</section></main></body></html>"""


def embed_page(site: Site, channel: Channel, message: Message | None) -> str:
    if message is None or message.deleted:
        inner = '<div class="tgme_widget_message_error">Post not found</div>'
    else:
        inner = message_html(site, channel, message)
    return f'<!DOCTYPE html><html><body class="widget_frame_base">{inner}</body></html>'


class Site:
    """Channels, feeds and files served on 127.0.0.1; counts requests per path."""

    def __init__(self) -> None:
        self.channels: dict[str, Channel] = {}
        self.files: dict[str, bytes] = {}
        self.feeds: dict[str, str] = {}
        self.user_agents: list[str] = []
        self.requests: list[tuple[float, str]] = []
        self.received: list[dict[str, object]] = []  # webhook posts
        self.base = ""
        self.lock = threading.Lock()
        self.extra: dict[str, Callable[[], tuple[int, str]]] = {}

    def channel(self, name: str, title: str | None = None) -> Channel:
        return self.channels.setdefault(name, Channel(name, title or name.title()))

    def add_file(self, name: str, data: bytes) -> str:
        self.files[name] = data
        return name

    def handle(
        self, path: str, query: dict[str, list[str]]
    ) -> tuple[int, str, bytes, dict[str, str]]:
        html_type = "text/html; charset=utf-8"
        segments = [s for s in path.split("/") if s]
        if path in self.extra:
            status, text = self.extra[path]()
            return status, html_type, text.encode(), {}
        if segments[:1] == ["file"] and len(segments) == 2 and segments[1] in self.files:
            return 200, "application/octet-stream", self.files[segments[1]], {}
        if segments[:1] == ["feed"] and len(segments) == 2 and segments[1] in self.feeds:
            return 200, "application/rss+xml", self.feeds[segments[1]].encode(), {}
        if segments[:1] == ["s"] and len(segments) == 2 and segments[1] in self.channels:
            channel = self.channels[segments[1]]
            if channel.failure == "429":
                return 429, "text/plain", b"Too Many Requests", {"Retry-After": "120"}
            if channel.failure == "500":
                return 500, "text/plain", b"oops", {}
            if channel.failure == "slow":
                time.sleep(2)
            before = query.get("before", [None])[0]
            text = channel_page(self, channel, int(before) if before else None)
            return 200, html_type, text.encode(), {}
        if len(segments) == 2 and segments[0] in self.channels and segments[1].isdigit():
            channel = self.channels[segments[0]]
            found = next((m for m in channel.messages if m.id == int(segments[1])), None)
            return 200, html_type, embed_page(self, channel, found).encode(), {}
        return 404, "text/plain", b"not found", {}


@contextmanager
def serving(site: Site) -> Iterator[Site]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            with site.lock:
                site.user_agents.append(self.headers.get("User-Agent", ""))
                site.requests.append((time.monotonic(), parts.path))
            status, ctype, body, headers = site.handle(parts.path, parse_qs(parts.query))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(body)  # unless the client gave up (a test of timeouts)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(length))
            with site.lock:
                site.received.append(payload)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    site.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()
