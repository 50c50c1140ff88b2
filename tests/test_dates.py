"""Dates from exports and spreadsheets always end up in UTC, or are refused clearly."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from testament.collect.dates import parse_datetime


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-12-10T09:30:00Z", datetime(2020, 12, 10, 9, 30, tzinfo=UTC)),
        ("2020-12-10T13:30:00+04:00", datetime(2020, 12, 10, 9, 30, tzinfo=UTC)),
        ("2020-12-10 09:30", datetime(2020, 12, 10, 9, 30, tzinfo=UTC)),
        ("2020-12-10", datetime(2020, 12, 10, tzinfo=UTC)),
        ("20201210", datetime(2020, 12, 10, tzinfo=UTC)),
        ("1607592600", datetime(2020, 12, 10, 9, 30, tzinfo=UTC)),
        ("1607592600.5", datetime(2020, 12, 10, 9, 30, 0, 500000, tzinfo=UTC)),
    ],
)
def test_parses_to_utc(text: str, expected: datetime) -> None:
    assert parse_datetime(text) == expected


@pytest.mark.parametrize(
    "text", ["", "yesterday", "10/12/2020", "2020-13-45", "9" * 20, "0001-01-01T00:00:00+05:00"]
)
def test_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(ValueError):
        parse_datetime(text)
