"""What collectors hand to the ingest: items to preserve, each with where it was seen."""

from __future__ import annotations

import os
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


@dataclass(frozen=True)
class Skipped:
    """Something in a folder that is not a file to preserve (a named pipe, a broken link).

    Reported and counted, so that nothing is passed over without a word; it fails nothing,
    since there were no bytes to keep.
    """

    label: str
    message: str


def readable(path: Path | str) -> str:
    """A path as text the catalog can store: bytes that are not UTF-8 (names copied from
    other systems) are written as \\xNN escapes instead of refusing the file."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def shown(value: object, limit: int = 80) -> str:
    """A value as a label or message quotes it: on one line, and never so long that it
    hides the problem (a 300-character path keeps its start and its end)."""
    text = value if isinstance(value, str) else repr(value)
    text = text if text.isprintable() else repr(text)[1:-1]
    return text if len(text) <= limit else f"{text[: limit - 21]}…{text[-20:]}"


class ItemError(Exception):
    """Why one item cannot be collected: its collector reports it and goes on to the next."""


Collected = Item | Problem | Skipped
