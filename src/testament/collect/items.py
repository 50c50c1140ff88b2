"""What collectors hand to the ingest: items to preserve, each with where it was seen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Sighting:
    """Where and how a copy was seen: becomes one capture record."""

    method: str  # file, telegram, csv, url
    platform: str | None = None
    url: str | None = None
    channel: str | None = None
    channel_id: str | None = None
    post_id: str | None = None
    post_text: str | None = None
    posted_at: datetime | None = None
    forwarded_from: str | None = None
    views: int | None = None
    reply_to: str | None = None
    note: str | None = None
    source_path: str | None = None
    filename: str | None = None
    tool: str | None = None
    raw: dict[str, Any] | None = None

    def merged(self, other: Sighting) -> Sighting:
        """Fill the fields this sighting leaves empty from `other` (explicit values win)."""
        values = {
            name: getattr(other, name)
            for name in self.__dataclass_fields__
            if getattr(self, name) is None and getattr(other, name) is not None
        }
        return replace(self, **values)


@dataclass(frozen=True)
class Download:
    """A file fetched for an item, with what the fetching learned about the post.

    One fetch may bring several files: a post can carry more than one video or image.
    """

    path: Path
    sighting: Sighting


@dataclass(frozen=True)
class Item:
    """One thing to preserve.

    Exactly one of `path` (a local file), `fetch` (downloads into a given folder) or
    `missing_reason` (the media was not available, only its context) is set.
    """

    label: str
    sighting: Sighting
    path: Path | None = None
    fetch: Callable[[Path], list[Download]] | None = field(default=None, compare=False)
    missing_reason: str | None = None


@dataclass(frozen=True)
class Problem:
    """Something a collector could not turn into an item (a bad row, an unsafe path)."""

    label: str
    message: str


Collected = Item | Problem
