"""Any page yt-dlp can list (a channel, playlist or account): its entries, by id.

The listing is flat (no download); each new entry is then fetched through the ingest's
URL collector, which downloads the original file.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from typing import Any

from testament.collect.items import Sighting
from testament.collect.urls import _one_line, fetch_url
from testament.watch.found import FoundMedia, FoundPost, LayoutChanged
from testament.watch.net import USER_AGENT, FetchFailed, Http


def _entries(info: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in info.get("entries") or ():
        if entry is None:
            continue
        if entry.get("_type") == "playlist" or entry.get("entries"):
            yield from _entries(entry)
        else:
            yield entry


def _when(entry: dict[str, Any]) -> datetime | None:
    stamp = entry.get("timestamp")
    if isinstance(stamp, int | float):
        return datetime.fromtimestamp(stamp, UTC)
    day = entry.get("upload_date")
    if isinstance(day, str) and len(day) == 8 and day.isdigit():
        return datetime.strptime(day, "%Y%m%d").replace(tzinfo=UTC)
    return None


def _identity(entry: dict[str, Any]) -> tuple[str | None, str | None, str | None]:
    """The entry's id, the address to hand yt-dlp, and the address to record.

    Flat listings of generic pages (feeds) give no id but smuggle one into the URL.
    """
    from yt_dlp.utils import unsmuggle_url

    link = entry.get("url") or entry.get("webpage_url")
    if not link:
        return None, None, None
    address, smuggled = unsmuggle_url(link, {})
    key = entry.get("id") or (smuggled or {}).get("force_videoid") or address
    return str(key), link, address


def list_entries(url: str, rate: float) -> dict[str, Any]:
    import yt_dlp

    options = {
        "extract_flat": "in_playlist",
        "quiet": True,
        "no_warnings": True,
        "cachedir": False,
        "socket_timeout": 30,
        "http_headers": {"User-Agent": USER_AGENT},
        "sleep_interval_requests": 1.0 / rate,
    }
    with yt_dlp.YoutubeDL(options) as ydl:
        try:
            info = ydl.extract_info(url, download=False)
        except yt_dlp.utils.YoutubeDLError as exc:
            raise FetchFailed(url, _one_line(str(exc))) from None
    # sanitize_info would drop the entries, which are what is wanted here.
    return dict(info) | {"entries": list(info.get("entries") or ())}


def poll(
    http: Http, url: str, cursor: dict[str, Any] | None, since: datetime | None
) -> Iterator[FoundPost]:
    info = list_entries(url, 1.0 / http.limiter.interval)
    if info.get("_type") not in ("playlist", "multi_video") and not info.get("entries"):
        raise LayoutChanged("yt-dlp lists no entries at this address (not a channel or playlist)")
    entries = list(_entries(info))
    if all(_when(e) for e in entries):
        entries.sort(key=lambda e: _when(e))  # type: ignore[arg-type, return-value]
    else:
        entries.reverse()  # channel listings run newest first
    channel = info.get("channel") or info.get("uploader") or info.get("title")
    for entry in entries:
        key, link, address = _identity(entry)
        if not key or not link:
            continue
        posted = _when(entry)
        if cursor is None and since and posted and posted < since:
            continue
        context = Sighting(method="watch", url=address)
        yield FoundPost(
            key=str(key),
            url=address,
            platform=str(entry.get("ie_key") or info.get("extractor_key") or "ytdlp").lower(),
            channel=channel,
            channel_id=info.get("channel_id") or info.get("id"),
            posted_at=posted,
            text=entry.get("title") or entry.get("description"),
            views=entry.get("view_count") if isinstance(entry.get("view_count"), int) else None,
            media=(FoundMedia("video", fetch=partial(fetch_url, link, context)),),
            raw={"listing": url, "entry": {k: entry.get(k) for k in ("id", "url", "title")}},
        )
