"""Tables for spreadsheets and other tools: incidents, assets and captures as CSV, JSON, GeoJSON.

CSV is UTF-8 (optionally with a byte-order mark, which some spreadsheet programs need to
read UTF-8), dates are ISO 8601 in UTC, lists are joined with "; " and nested records
(attributions, victims) are compact JSON. Text that a spreadsheet would run as a formula
(post texts come from anyone) is prefixed with an apostrophe, which import removes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.actors import attributions
from testament.actors import tables as actor_tables
from testament.catalog.models import Asset, Capture
from testament.catalog.records import asset_dict, capture_dict, iso
from testament.investigate import incidents as logic
from testament.investigate.models import Incident

KINDS = ("incidents", "assets", "captures", *actor_tables.KINDS)
FORMATS = ("csv", "json", "geojson")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = "; "


def attribution_cell(session: Session, incident: Incident) -> list[dict[str, Any]]:
    """What import reads back (actor, role, confidence, bases) and the review it had."""
    return [
        {
            "actor_id": a.actor_id,
            "actor": a.actor.name,
            "role": a.role,
            "confidence": a.confidence,
            "status": a.status,
            "bases": [attributions.basis_dict(b) for b in a.bases],
            "note": a.note,
        }
        for a in attributions.for_incident(session, incident.id)
    ]


def incident_row(session: Session, incident: Incident) -> dict[str, Any]:
    snapshot = logic.snapshot(incident)
    return {
        "id": incident.id,
        "title": incident.title,
        "status": incident.status,
        "summary": incident.summary,
        "violations": snapshot["violations"],
        "event_time": snapshot["event_time"],
        "event_earliest": snapshot["event_earliest"],
        "event_latest": snapshot["event_latest"],
        "location_name": incident.location_name,
        "latitude": incident.latitude,
        "longitude": incident.longitude,
        "location_precision": incident.location_precision,
        "location_method": incident.location_method,
        "attributions": attribution_cell(session, incident),
        "victims": snapshot["victims"],
        "tags": snapshot["tags"],
        "assets": sorted({link.asset.sha256 for link in incident.assets}),
        "assignee": snapshot["assignee"],
        "created_by": incident.created_by.username,
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
    }


def asset_row(asset: Asset) -> dict[str, Any]:
    record = asset_dict(asset)
    probe = record.pop("probe") or {}
    record["duration"] = probe.get("duration")
    record["earliest_posted_at"] = iso(
        min((c.posted_at for c in asset.captures if c.posted_at), default=None)
    )
    return record


def capture_row(capture: Capture) -> dict[str, Any]:
    record = capture_dict(capture)
    record.pop("raw")
    return record


def rows(session: Session, kind: str) -> list[dict[str, Any]]:
    if kind == "incidents":
        found: Iterable[Any] = session.execute(select(Incident).order_by(Incident.id)).scalars()
        return [incident_row(session, i) for i in found]
    if kind == "assets":
        return [asset_row(a) for a in session.execute(select(Asset).order_by(Asset.id)).scalars()]
    if kind == "captures":
        return [
            capture_row(c) for c in session.execute(select(Capture).order_by(Capture.id)).scalars()
        ]
    if kind in actor_tables.KINDS:
        return actor_tables.rows(session, kind)
    raise ValueError(f"unknown table {kind!r}; choose one of {', '.join(KINDS)}")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        value = LIST_SEPARATOR.join(value)
    elif isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(records: list[dict[str, Any]]) -> str:
    if not records:
        return ""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]), lineterminator="\r\n")
    writer.writeheader()
    for record in records:
        writer.writerow({key: _cell(value) for key, value in record.items()})
    return out.getvalue()


def to_geojson(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Records with a location as Point features (longitude first, as GeoJSON requires)."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": record["id"],
                "geometry": {
                    "type": "Point",
                    "coordinates": [record["longitude"], record["latitude"]],
                },
                "properties": {
                    k: v for k, v in record.items() if k not in ("latitude", "longitude")
                },
            }
            for record in records
            if record["latitude"] is not None and record["longitude"] is not None
        ],
    }


def _mapped(session: Session, kind: str) -> list[dict[str, Any]]:
    """The rows a map shows: incidents, attributions and events at their incident's place,
    and for actors their units' known positions."""
    if kind == "actors":
        return actor_tables.position_rows(session)
    if kind in ("incidents", "attributions", "accountability"):
        return rows(session, kind)
    raise ValueError(
        "GeoJSON is for incidents, attributions, accountability events "
        "and actors (their units' positions)"
    )


def render(session: Session, kind: str, fmt: str) -> str:
    """The whole table as text in the chosen format."""
    if fmt == "geojson":
        return json.dumps(to_geojson(_mapped(session, kind)), ensure_ascii=False, indent=2) + "\n"
    records = rows(session, kind)
    if fmt == "csv":
        return to_csv(records)
    if fmt == "json":
        return json.dumps(records, ensure_ascii=False, indent=2) + "\n"
    raise ValueError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
