"""Reading the dates that exports and spreadsheets carry, always ending in UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_datetime(text: str, *, default_zone: object = UTC) -> datetime:
    """Parse ISO 8601 (with `Z`, an offset, or no zone meaning `default_zone`) or Unix seconds."""
    value = text.strip()
    if not value:
        raise ValueError("empty date")
    if value.lstrip("-").replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(value), UTC)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date or Unix time: {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_zone)  # type: ignore[arg-type]
    return parsed.astimezone(UTC)
