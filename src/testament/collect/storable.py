"""Whether a sighting's values fit the catalog, checked before anything is stored.

Collectors read exports and lists written by other programs (or by hand), so a value can
be the wrong type, too long for its column, or text that PostgreSQL refuses (a NUL, half
of a surrogate pair). The database would refuse it mid-transaction after the blob was
written; checking first turns that into one failed item with a reason.
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import String

from testament.catalog.models import Capture
from testament.collect.items import Sighting

BIGINT_MAX = 2**63 - 1
# Real platform records nest a few levels; far deeper would exhaust the JSON encoder.
RAW_DEPTH_MAX = 100


def type_name(value: Any) -> str:
    """How a person would call a JSON value's type."""
    if isinstance(value, bool):
        return "true or false"
    return {
        str: "text",
        int: "a whole number",
        float: "a decimal number",
        list: "a list",
        dict: "an object",
        type(None): "empty",
    }.get(type(value), type(value).__name__)


def text_problem(value: str) -> str | None:
    """Why PostgreSQL would refuse this text, if it would."""
    if "\x00" in value:
        return "holds a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds text that is not valid Unicode (half of a surrogate pair)"
    return None


def _limit(name: str) -> int | None:
    column_type = Capture.__table__.columns[name].type
    return column_type.length if isinstance(column_type, String) else None


def _text(name: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return f"{name} is {type_name(value)}, expected text"
    problem = text_problem(value)
    if problem is not None:
        return f"{name} {problem}"
    limit = _limit(name)
    if limit is not None and len(value) > limit:
        return f"{name} is {len(value)} characters long, more than the {limit} the catalog keeps"
    return None


def _depth(value: Any) -> int:
    """How many lists and objects deep `value` goes (without recursing, whatever it holds)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        current, level = pending.pop()
        if isinstance(current, dict):
            current = list(current.values())
        if isinstance(current, list):
            deepest = max(deepest, level)
            if level <= RAW_DEPTH_MAX:
                pending.extend((child, level + 1) for child in current)
    return deepest


def _raw(value: Any) -> str | None:
    if not isinstance(value, dict):
        return f"the raw record is {type_name(value)}, expected an object"
    if _depth(value) > RAW_DEPTH_MAX:
        return f"the raw record nests more than {RAW_DEPTH_MAX} levels deep"
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except ValueError:
        return "the raw record holds a number that JSON cannot store (NaN or infinity)"
    except TypeError as exc:
        return f"the raw record cannot be stored as JSON ({exc})"
    problem = text_problem(text)
    return None if problem is None else f"the raw record {problem}"


def unstorable(sighting: Sighting) -> str | None:
    """The first value of `sighting` that the catalog cannot store as given, and why."""
    for field in fields(sighting):
        value = getattr(sighting, field.name)
        if value is None:
            continue
        if field.name == "raw":
            problem = _raw(value)
        elif field.name == "views":
            ok = isinstance(value, int) and not isinstance(value, bool) and abs(value) <= BIGINT_MAX
            problem = None if ok else f"views is {value!r}, expected a count"
        elif field.name == "posted_at":
            ok = isinstance(value, datetime) and value.tzinfo is not None
            problem = None if ok else "posted_at is not a moment in UTC"
        else:
            problem = _text(field.name, value)
        if problem is not None:
            return problem
    return None
