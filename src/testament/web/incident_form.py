"""Turning the incident form's fields into `IncidentFields`, and back for re-display."""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from testament.investigate.fields import IncidentFields

ROW_FIELD = re.compile(r"(?P<prefix>[a-z]+)-(?P<index>\d{1,9})-(?P<field>[a-z_]+)")


def _rows(form: FormData, prefix: str) -> list[dict[str, Any]]:
    """Repeated rows named `PREFIX-N-FIELD`, in order of N; any N, gaps allowed.

    The page adds rows with fresh indices, so the numbers need not be contiguous.
    """
    rows: dict[int, dict[str, Any]] = {}
    for key in form:
        match = ROW_FIELD.fullmatch(key)
        if match and match["prefix"] == prefix:
            rows.setdefault(int(match["index"]), {})[match["field"]] = form.getlist(key)
    return [rows[i] for i in sorted(rows)]


def raw_fields(form: FormData) -> dict[str, Any]:
    """The form as a plain dict in IncidentFields' shape; blank rows and values dropped."""
    text = {k: str(form.get(k, "")).strip() for k in form if not k.startswith(("perp-", "victim-"))}
    data: dict[str, Any] = {
        "title": text.get("title", ""),
        "summary": text.get("summary", ""),
        "violations": [str(v) for v in form.getlist("violations")],
        "location_name": text.get("location_name", ""),
        "tags": [t for t in text.get("tags", "").split(",") if t.strip()],
        "assignee": text.get("assignee") or None,
    }
    for key in (
        "event_time",
        "event_earliest",
        "event_latest",
        "latitude",
        "longitude",
        "location_precision",
        "location_method",
    ):
        if text.get(key):
            data[key] = text[key]
    perpetrators = []
    for row in _rows(form, "perp"):
        value = {
            "party": str(row.get("party", [""])[0]).strip(),
            "unit": str(row.get("unit", [""])[0]).strip(),
            "confidence": str(row.get("confidence", ["tentative"])[0]),
            "basis": [str(b) for b in row.get("basis", [])],
        }
        # A fully empty row (the spare blank one) is ignored; a row with a unit or basis
        # but no party is kept, so validation asks for the party rather than losing it.
        if value["party"] or value["unit"] or value["basis"]:
            perpetrators.append(value)
    data["perpetrators"] = perpetrators
    victims = []
    for row in _rows(form, "victim"):
        value = {
            k: str(row.get(k, [""])[0]).strip() for k in ("count", "status", "age_group", "sex")
        }
        if value["count"] or any(
            value[k] not in ("", "unknown") for k in ("status", "age_group", "sex")
        ):
            victims.append({k: v for k, v in value.items() if v != ""})
    data["victims"] = victims
    return data


def parse(form: FormData) -> tuple[IncidentFields | None, dict[str, Any], list[str]]:
    """(fields or None, what was entered, readable problems)."""
    data = raw_fields(form)
    try:
        return IncidentFields.model_validate(data), data, []
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = " ".join(str(p) for p in error["loc"]).replace("_", " ")
            message = error["msg"].removeprefix("Value error, ")
            problems.append(f"{where}: {message}" if where else message)
        return None, data, problems
