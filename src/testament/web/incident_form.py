"""Turning the incident form's fields into `IncidentFields` and attributions to propose.

Attributions are not incident fields: each new row is proposed as an attribution, with
its own history and review; those already made are shown, and changed on their page.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from testament.investigate.fields import IncidentFields
from testament.web.actor_schemas import AttributionIn

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
    text = {k: str(form.get(k, "")).strip() for k in form if not k.startswith(("attr-", "victim-"))}
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


def _attribution_rows(form: FormData) -> list[dict[str, Any]]:
    """New attribution rows; a row with no actor chosen (the spare blank one) is ignored."""
    rows = []
    for row in _rows(form, "attr"):
        value = {k: str(row.get(k, [""])[0]).strip() for k in ("actor_id", "role", "confidence")}
        basis = {k: str(row.get(k, [""])[0]).strip() for k in ("basis", "asset", "note")}
        if value["actor_id"]:
            rows.append(value | basis)
    return rows


def _attribution(row: dict[str, Any]) -> AttributionIn:
    bases = [{"kind": row["basis"], "sha256": row["asset"] or None}] if row["basis"] else []
    return AttributionIn.model_validate(
        {
            "actor_id": row["actor_id"],
            "role": row["role"],
            "confidence": row["confidence"],
            "bases": bases,
            "note": row["note"],
        }
    )


def _problems(exc: ValidationError, prefix: str = "") -> list[str]:
    problems = []
    for error in exc.errors():
        where = " ".join(str(p) for p in (prefix, *error["loc"]) if p != "").replace("_", " ")
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {message}" if where else message)
    return problems


def parse(
    form: FormData,
) -> tuple[IncidentFields | None, list[AttributionIn], dict[str, Any], list[str]]:
    """(fields or None, attributions to propose, what was entered, readable problems)."""
    data = raw_fields(form)
    data_rows = _attribution_rows(form)
    problems: list[str] = []
    fields = None
    try:
        fields = IncidentFields.model_validate(data)
    except ValidationError as exc:
        problems.extend(_problems(exc))
    proposed = []
    for number, row in enumerate(data_rows, 1):
        try:
            proposed.append(_attribution(row))
        except ValidationError as exc:
            problems.extend(_problems(exc, f"attribution {number}"))
    data["attributions"] = data_rows
    return (None if problems else fields), proposed, data, problems
