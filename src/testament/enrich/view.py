"""Analyses as `show`, the API and the workbench present them: results beside failures,
and each watermark linked to the captures of the channel it names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from testament.catalog.models import Capture
from testament.enrich.records import analyses_of, analysis_dict


def channel_captures(session: Session, handle: str) -> list[int]:
    """Captures from the channel an `@name` or `t.me/name` watermark names."""
    name = handle.casefold()
    query = (
        select(Capture.id)
        .where(
            or_(
                func.lower(Capture.channel) == name,
                func.lower(Capture.channel) == f"@{name}",
                func.lower(Capture.channel_id) == name,
                func.lower(Capture.url).like(f"%t.me/{name}/%"),
            )
        )
        .order_by(Capture.id)
    )
    return list(session.execute(query).scalars())


def analyses_view(session: Session, asset_id: int) -> list[dict[str, Any]]:
    """Every analysis of the asset, oldest first; watermarks with their channel's captures.

    Face descriptors stay in the signed record: what a face looks like to dlib is for
    clustering, and printing it would put a biometric template in front of every reader.
    """
    views = []
    for row in analyses_of(session, asset_id):
        view = analysis_dict(row)
        for region in (row.result or {}).get("regions", []) if row.analyser == "ocr" else []:
            if region.get("channel"):
                region["channel_captures"] = channel_captures(session, region["channel"])
        if row.analyser == "faces" and view.get("result"):
            view["result"] = _without_descriptors(view["result"])
        views.append(view)
    return views


def _without_descriptors(result: dict[str, Any]) -> dict[str, Any]:
    faces = [
        {k: v for k, v in face.items() if k != "descriptor"} for face in result.get("faces", [])
    ]
    return {**result, "faces": faces}


def summary(view: dict[str, Any]) -> str:
    """The one line `show` prints for an analysis."""
    from testament.enrich.run import analysers

    if view["status"] != "ok":
        return f"failed: {view['error']}"
    try:
        (analyser,) = analysers([view["analyser"]])
    except ValueError:
        return ""
    return analyser.summary(view["result"] or {})
