"""Reading the dates that exports and spreadsheets carry, always ending in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from testament.collect.items import shown


def parse_datetime(text: str, *, default_zone: object = UTC) -> datetime:
    """Parse ISO 8601 (with `Z`, an offset, or no zone meaning `default_zone`) or Unix seconds.

    Raises ValueError with the offending text, for the caller to report.
    """
    value = text.strip()
    if not value:
        raise ValueError("empty date")
    # Nine or more digits are Unix seconds (from 1973 on); shorter runs such as 20201210
    # are compact ISO dates, which spreadsheets often carry.
    whole = value.lstrip("-").split(".", 1)[0]
    if value.lstrip("-").replace(".", "", 1).isdigit() and len(whole) >= 9:
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"Unix time out of range: {shown(value)!r}") from exc
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not an ISO 8601 date or Unix time: {shown(value)!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_zone)  # type: ignore[arg-type]
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01 east of UTC is before the first year
        raise ValueError(f"date out of range in UTC: {shown(value)!r}") from exc
