"""JSON records for packages, tables and reports: incidents and derivatives as plain dicts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.catalog.models import Derivative
from testament.catalog.records import iso
from testament.investigate import incidents as logic
from testament.investigate.models import Incident


def derivative_dict(derivative: Derivative) -> dict[str, Any]:
    return {
        "kind": derivative.kind,
        "sha256": derivative.sha256,
        "media_type": derivative.media_type,
        "tool": derivative.tool,
        "tool_version": derivative.tool_version,
        "params": derivative.params,
        "created_at": iso(derivative.created_at),
    }


def derivatives_of(session: Session, asset_id: int) -> list[Derivative]:
    return list(
        session.execute(
            select(Derivative).where(Derivative.asset_id == asset_id).order_by(Derivative.id)
        ).scalars()
    )


def incident_record(session: Session, incident: Incident) -> dict[str, Any]:
    """The whole incident as it stands, with its history: what a recipient needs to judge it."""
    return {
        "id": incident.id,
        "status": incident.status,
        "created_by": incident.created_by.username,
        "created_at": iso(incident.created_at),
        "updated_at": iso(incident.updated_at),
        **logic.snapshot(incident),
        "violation_types": [
            {"code": t.code, "label": t.label, "category": t.category, "legal_basis": t.legal_basis}
            for t in incident.violations
        ],
        "assets": [
            {"sha256": a.asset.sha256, "start": a.start, "end": a.end, "note": a.note}
            for a in incident.assets
        ],
        "history": logic.feed_records(session, incident),
    }
