"""Rendering pages: one Jinja2 environment, autoescaping everything, with shared helpers."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlparse

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from testament.accounts.roles import ROLES
from testament.footage.groups import link_intervals
from testament.investigate import vocabulary

TEMPLATES = Path(__file__).parent / "templates"
templates = Jinja2Templates(env=Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True))


def safe_url(value: str | None) -> str | None:
    """A link target only for http(s) URLs: post URLs are hostile input (javascript:...)."""
    if not value:
        return None
    parsed = urlparse(value.strip())
    return value.strip() if parsed.scheme in ("http", "https") and parsed.netloc else None


def when(value: datetime | str | None, precise: bool = False) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.strftime("%Y-%m-%d %H:%M:%S UTC" if precise else "%Y-%m-%d %H:%M UTC")


def datetime_input(value: str | None) -> str:
    """A stored ISO time as a datetime-local input value (UTC), or what was typed."""
    if not value:
        return ""
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    return parsed.strftime("%Y-%m-%dT%H:%M")


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    minutes, rest = divmod(float(value), 60)
    return f"{int(minutes)}:{rest:05.2f}"


def moments(asset_time: float | None, intervals: list[list[float]] | None) -> str:
    """A still's second, or each interval it matches when no one second is clearly it."""
    if asset_time is not None or not intervals:
        return seconds(asset_time)
    return "one of " + ", ".join(f"{seconds(a)}–{seconds(b)}" for a, b in intervals)


def filesize(value: int) -> str:
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def plain(value: Any, separator: str = "; ") -> str:
    """A changed field's value as a person reads it: lists and records without Python syntax."""
    if value in (None, "", [], {}):
        return "—"
    if isinstance(value, list):
        return separator.join(plain(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(
            f"{key.replace('_', ' ')} {plain(item, ' / ')}"
            for key, item in value.items()
            if item not in (None, "", [], {})
        )
    return str(value)


def query_with(request: Request, **changes: Any) -> str:
    """The current query string with some parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params)


templates.env.filters.update(
    safe_url=safe_url,
    when=when,
    seconds=seconds,
    filesize=filesize,
    datetime_input=datetime_input,
    plain=plain,
)
templates.env.globals.update(
    statuses=vocabulary.STATUS_LABELS,
    vocabulary=vocabulary,
    roles=ROLES,
    query_with=query_with,
    moments=moments,
    link_intervals=link_intervals,
)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("viewer", getattr(request.state, "viewer", None))
    context["csrf"] = getattr(request.state, "csrf", "")
    return templates.TemplateResponse(request, name, context, status_code=status_code)
