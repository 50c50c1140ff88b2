"""What a source adapter reports: posts, oldest first, each with the media it carries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from testament.collect.items import Download


class LayoutChanged(Exception):
    """A page answered but no longer has the shape the adapter reads."""


@dataclass(frozen=True)
class FoundMedia:
    """One photo, video or file of a post: a URL to download, a local file, or a fetcher.

    `missing_reason` says why the media cannot be had (too large for the web preview, ...).
    """

    kind: str  # photo, video, file
    url: str | None = None
    path: Path | None = None
    fetch: Callable[[Path], list[Download]] | None = field(default=None, compare=False)
    missing_reason: str | None = None
    post_id: str | None = None  # the item's own id inside an album


@dataclass(frozen=True)
class FoundPost:
    """One post as the source shows it; `key` is unique within the source."""

    key: str
    url: str | None
    platform: str
    channel: str | None = None
    channel_id: str | None = None
    posted_at: datetime | None = None
    author: str | None = None
    text: str | None = None
    forwarded_from: str | None = None
    views: int | None = None
    media: tuple[FoundMedia, ...] = ()
    raw: dict[str, Any] | None = None
    # Where the source's cursor stands once this post is committed.
    cursor: dict[str, Any] | None = None
