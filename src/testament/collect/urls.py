"""Web addresses: posts, videos and direct links to media, downloaded with yt-dlp.

Collecting only names the URL; the download happens when the ingest calls the item's
fetch, into a temporary folder that the ingest empties once the files are preserved.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from testament.collect.items import Collected, Download, Item, Sighting

if TYPE_CHECKING:
    from yt_dlp import YoutubeDL

log = logging.getLogger(__name__)

# Best video with best audio, remuxed by ffmpeg without re-encoding; or, with no ffmpeg
# to merge, the best single file (yt-dlp falls back to video-only or audio-only formats
# when a site has nothing else). Quality order is yt-dlp's default sort, which ranks the
# formats extractors mark as original or source above re-encodes.
FORMAT_MERGED = "bv*+ba/b"
FORMAT_SINGLE = "b/bv*"

# Keys of yt-dlp's info dict not kept in a capture's raw metadata. sanitize_info with
# remove_private_keys already drops yt-dlp's bookkeeping, including requested_downloads
# (temporary paths) and entries (each entry gets its own capture).
DROPPED_KEYS = frozenset(
    {
        # Every format on offer, with signed URLs that expire within hours: often
        # hundreds of kilobytes. The chosen format's fields stay at the top level.
        "formats",
        # Machine-translated subtitles in about 150 languages, again expiring links.
        "automatic_captions",
        # One entry per HLS or DASH segment of the chosen format: thousands of links.
        "fragments",
        # Session cookies the site set while extracting: not evidence, and they expire.
        "cookies",
    }
)

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


class FetchError(Exception):
    """yt-dlp could not download a URL; the message is one line naming the URL."""


def ytdlp_version() -> str:
    """yt-dlp's version as it reports itself; imports yt-dlp, so call it only when needed."""
    from yt_dlp.version import __version__

    return __version__


def is_url(text: str) -> bool:
    """True for http and https addresses: anything else is taken as a path."""
    try:
        parts = urlsplit(text)
    except ValueError:  # a malformed address such as "http://[" is no URL
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def collect_url(url: str, context: Sighting) -> Iterator[Collected]:
    """One item for `url`; nothing is fetched until the ingest preserves it."""
    sighting = Sighting(method="url", url=url).merged(context)
    yield Item(label=url, sighting=sighting, fetch=partial(fetch_url, url, context))


def fetch_url(url: str, context: Sighting, folder: Path) -> list[Download]:
    """Download everything `url` leads to into `folder`: one Download per file.

    What the investigator said (`context`) wins over what yt-dlp found: yt-dlp calls a
    mirror of a Telegram post "generic", but the person collecting it knows better.
    """
    import yt_dlp  # slow to import: only URL ingests pay for it

    tool = f"yt-dlp {ytdlp_version()}"
    with yt_dlp.YoutubeDL(_options(folder)) as ydl:
        try:
            info = ydl.extract_info(url, download=True)
        except yt_dlp.utils.YoutubeDLError as exc:
            raise FetchError(f"{url}: {_one_line(str(exc))}") from exc
        downloads = [
            Download(
                path,
                Sighting(method="url", filename=path.name, tool=tool, raw=_raw(ydl, entry, url))
                .merged(context)
                .merged(found),
            )
            for entry, path, found in _files(info, _found(info, url))
        ]
    if not downloads:
        raise FetchError(f"{url}: yt-dlp found no media to download")
    return downloads


def _options(folder: Path) -> dict[str, Any]:
    """yt-dlp settings: original bytes in `folder`, nothing printed, nothing written elsewhere."""
    return {
        "format": FORMAT_MERGED if shutil.which("ffmpeg") else FORMAT_SINGLE,
        # Fixups remux a downloaded file to repair its container; evidence keeps the
        # bytes as served, so only note the fault.
        "fixup": "warn",
        "paths": {"home": str(folder)},
        "outtmpl": {"default": "%(id).200B.%(ext)s"},
        "restrictfilenames": True,
        "overwrites": False,
        "noplaylist": False,  # a post with several videos is a playlist to yt-dlp
        "quiet": True,
        "noprogress": True,
        "logger": _Logger(),
        "cachedir": False,
        "retries": 3,
        "fragment_retries": 3,
        "extractor_retries": 2,
        "socket_timeout": 30,
    }


class _Logger:
    """Sends yt-dlp's messages to Python logging, away from the CLI's own output."""

    def debug(self, message: str) -> None:
        log.debug("%s", _one_line(message))

    def warning(self, message: str) -> None:
        log.info("%s", _one_line(message))

    def error(self, message: str) -> None:
        log.debug("%s", _one_line(message))  # also raised, and reported, as FetchError


def _one_line(message: str) -> str:
    """yt-dlp's message without colour codes, its "ERROR:" prefix or line breaks."""
    text = ANSI_ESCAPE.sub("", message).strip().removeprefix("ERROR:")
    return " ".join(text.split())


def _files(
    info: dict[str, Any], found: Sighting
) -> Iterator[tuple[dict[str, Any], Path, Sighting]]:
    """Each downloaded file with the info dict it came from and what that says of the post.

    Entries of a playlist inherit what they do not say themselves (channel, say) from it.
    """
    for entry in info.get("entries") or ():
        yield from _files(entry, _found(entry, entry.get("webpage_url")).merged(found))
    for download in info.get("requested_downloads") or ():
        yield info, Path(download["filepath"]), found


def _found(info: dict[str, Any], url: str | None) -> Sighting:
    """What yt-dlp learned about a post."""
    return Sighting(
        method="url",
        platform=(_text(info.get("extractor_key")) or "").lower() or None,
        url=_text(info.get("webpage_url")) or url,
        channel=_text(info.get("channel") or info.get("uploader")),
        channel_id=_text(info.get("channel_id") or info.get("uploader_id")),
        post_id=_text(info.get("id")),
        post_text=_text(info.get("description") or info.get("title")),
        posted_at=_posted_at(info),
        views=_count(info.get("view_count")),
    )


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _posted_at(info: dict[str, Any]) -> datetime | None:
    """yt-dlp's timestamp, else its upload date (a day, in UTC) at midnight UTC."""
    timestamp = info.get("timestamp")
    if isinstance(timestamp, int | float):
        return datetime.fromtimestamp(timestamp, UTC)
    try:
        return datetime.strptime(info["upload_date"], "%Y%m%d").replace(tzinfo=UTC)
    except (KeyError, TypeError, ValueError):
        return None


def _raw(ydl: YoutubeDL, info: dict[str, Any], url: str) -> dict[str, Any]:
    """yt-dlp's info dict as JSON, less the keys in DROPPED_KEYS.

    sanitize_info drops `original_url` as bookkeeping; it is put back as the address
    the investigator gave, since the capture's URL may be another (yt-dlp's canonical one).
    """
    sanitized = ydl.sanitize_info(info, remove_private_keys=True)
    raw = {key: value for key, value in sanitized.items() if key not in DROPPED_KEYS}
    raw["original_url"] = url
    return raw
