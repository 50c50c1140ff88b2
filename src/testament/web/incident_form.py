"""Turning the incident form's fields into `IncidentFields`, and back for re-display."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from testament.investigate.fields import IncidentFields

MAX_ROWS = 50


def _rows(form: FormData, prefix: str) -> list[dict[str, Any]]:
    rows = []
    for i in range(MAX_ROWS):
        keys = [k for k in form if k.startswith(f"{prefix}-{i}-")]
        if not keys:
            continue
        rows.append({k.removeprefix(f"{prefix}-{i}-"): form.getlist(k) for k in keys})
    return rows


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
    data["perpetrators"] = [
        {
            "party": str(row.get("party", [""])[0]).strip(),
            "unit": str(row.get("unit", [""])[0]).strip(),
            "confidence": str(row.get("confidence", ["tentative"])[0]),
            "basis": [str(b) for b in row.get("basis", [])],
        }
        for row in _rows(form, "perp")
        if str(row.get("party", [""])[0]).strip()
    ]
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
