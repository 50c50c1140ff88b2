"""The signed details of an `analysed` event, and plain-dict views of analyses.

`verify` rebuilds these details from the catalog and compares them with the signed ones
(see locker/reconcile.py), so an edited result or a deleted record is caught.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.catalog.records import iso
from testament.enrich.models import Analysis
from testament.locker.custody import canonical_json


def _digest(value: Any) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def analysed_details(row: Analysis, sha256: str | None) -> dict[str, Any]:
    """What the `analysed` event attests: the record's maker and digests of its result."""
    return {
        "analysis_id": row.id,
        "sha256": sha256,
        "analyser": row.analyser,
        "tool": row.tool,
        "model": row.model,
        "version": row.version,
        "status": row.status,
        "error": row.error,
        "result_sha256": _digest(row.result),
        "search_sha256": _digest(row.search_text),
        "created_at": None if row.created_at is None else row.created_at.isoformat(),
    }


def analysis_dict(row: Analysis) -> dict[str, Any]:
    return {
        "id": row.id,
        "analyser": row.analyser,
        "tool": row.tool,
        "model": row.model,
        "version": row.version,
        "status": row.status,
        "error": row.error,
        "result": row.result,
        "created_at": iso(row.created_at),
    }


def analyses_of(session: Session, asset_id: int) -> list[Analysis]:
    """Every analysis of the asset, oldest first (older versions stay beside newer)."""
    query = select(Analysis).where(Analysis.asset_id == asset_id).order_by(Analysis.id)
    return list(session.execute(query).scalars())


def latest(session: Session, asset_id: int, analyser: str) -> Analysis | None:
    """The newest successful result of one analyser on the asset."""
    query = (
        select(Analysis)
        .where(
            Analysis.asset_id == asset_id,
            Analysis.analyser == analyser,
            Analysis.status == "ok",
        )
        .order_by(Analysis.id.desc())
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()
