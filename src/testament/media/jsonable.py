"""Turning values read from untrusted files into what the catalog's JSON column accepts.

Tags and EXIF fields come from whoever made the file: text may carry NUL bytes (which
PostgreSQL cannot turn into text, so `->>` and jsonb fail), raw bytes, or numbers that
are NaN after a zero divisor (which JSON has no spelling for).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime


def clean_text(value: object) -> str | None:
    """Printable text without NULs or padding, or None when nothing is left."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()
    return text or None


def clean_tags(tags: dict[str, str]) -> dict[str, str]:
    cleaned = {clean_text(key): clean_text(value) for key, value in tags.items()}
    return {key: value for key, value in cleaned.items() if key and value}


def finite(value: object) -> float | None:
    """A float for anything numeric (Fraction, IFDRational), None for NaN, ∞ or non-numbers."""
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return number if math.isfinite(number) else None


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`, dropping zero microseconds."""
    moment = moment.astimezone(UTC)
    spec = "seconds" if moment.microsecond == 0 else "microseconds"
    return moment.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
