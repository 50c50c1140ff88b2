"""Workbench settings: those an admin changes in the browser (in the catalog), and limits."""

from __future__ import annotations

import os
from urllib.parse import urlparse

from testament.investigate.models import WorkbenchSetting
from testament.store import Store

TILE_URL = "tile_url"
MAX_UPLOAD_ENV = "TESTAMENT_MAX_UPLOAD_BYTES"
DEFAULT_MAX_UPLOAD_BYTES = 4 << 30  # a long video from a phone fits
MAX_FORM_BYTES = 1 << 20  # every other form and JSON body: an incident is a few KB


class SettingError(ValueError):
    """A setting value that cannot be used; the message says why."""


def tile_url(store: Store, default: str | None) -> str:
    """The admin's choice, else the server's, else none: "" means no tiles.

    No default tile server: asking one for the places under investigation tells a
    third party what the team is looking at, so that is only ever a deliberate choice.
    """
    with store.read() as session:
        saved = session.get(WorkbenchSetting, TILE_URL)
    if saved is not None:
        return saved.value
    return default or ""


def check_tile_url(value: str) -> str:
    value = value.strip()
    if not value:
        return value
    parsed = urlparse(value.replace("{s}", "a"))
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingError("a tile URL starts with http:// or https://")
    if not all(part in value for part in ("{z}", "{x}", "{y}")):
        raise SettingError("a tile URL contains {z}, {x} and {y}")
    return value


def save_tile_url(store: Store, value: str) -> str:
    value = check_tile_url(value)
    with store.write() as session:
        session.merge(WorkbenchSetting(key=TILE_URL, value=value))
    return value


def max_upload_bytes(value: int | None = None) -> int:
    """The largest upload body: `value`, else TESTAMENT_MAX_UPLOAD_BYTES, else 4 GiB."""
    given = str(value) if value is not None else os.environ.get(MAX_UPLOAD_ENV, "").strip()
    if not given:
        return DEFAULT_MAX_UPLOAD_BYTES
    if not given.isdigit() or int(given) < 1:
        raise SettingError(
            f"{MAX_UPLOAD_ENV} (the largest upload) is a whole number of bytes, not {given!r}"
        )
    return int(given)
