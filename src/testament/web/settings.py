"""Workbench settings an admin changes in the browser, stored in the catalog."""

from __future__ import annotations

from urllib.parse import urlparse

from testament.investigate.models import WorkbenchSetting
from testament.store import Store

TILE_URL = "tile_url"
DEFAULT_TILE_URL = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"


class SettingError(ValueError):
    """A setting value that cannot be used; the message says why."""


def tile_url(store: Store, default: str | None) -> str:
    """The admin's choice, else the server's, else OpenStreetMap; "" means no tiles."""
    with store.read() as session:
        saved = session.get(WorkbenchSetting, TILE_URL)
    if saved is not None:
        return saved.value
    return DEFAULT_TILE_URL if default is None else default


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
