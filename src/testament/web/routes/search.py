"""Search across post texts, filenames, comments and incident fields."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from testament.catalog.models import Asset, Capture
from testament.investigate import search as engine
from testament.investigate.models import Comment
from testament.store import Store
from testament.web.auth import Viewer, any_user, store_of
from testament.web.pages import render

router = APIRouter(include_in_schema=False)


def run_search(store: Store, query: str) -> list[dict]:
    """Hits with where each leads: an asset page, an incident, or a comment's incident."""
    with store.write() as session:
        engine.catch_up(session)
    with store.read() as session:
        hits = engine.search(session, query)
        links: dict[tuple[str, int], str | None] = {}
        capture_ids = [h.ref for h in hits if h.kind == "capture"]
        for capture_id, sha256 in session.execute(
            select(Capture.id, Asset.sha256)
            .join(Asset, isouter=True)
            .where(Capture.id.in_(capture_ids))
        ).all():
            links[("capture", capture_id)] = f"/assets/{sha256}" if sha256 else None
        for asset_id, sha256 in session.execute(
            select(Asset.id, Asset.sha256).where(
                Asset.id.in_([h.ref for h in hits if h.kind == "asset"])
            )
        ).all():
            links[("asset", asset_id)] = f"/assets/{sha256}"
        for comment_id, incident_id in session.execute(
            select(Comment.id, Comment.incident_id).where(
                Comment.id.in_([h.ref for h in hits if h.kind == "comment"])
            )
        ).all():
            links[("comment", comment_id)] = f"/incidents/{incident_id}"
    return [
        {
            "kind": h.kind,
            "ref": h.ref,
            "title": h.title,
            "snippet": h.snippet,
            "link": f"/incidents/{h.ref}" if h.kind == "incident" else links.get((h.kind, h.ref)),
        }
        for h in hits
    ]


@router.get("/search")
def search_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    q: Annotated[str, Query(max_length=500)] = "",
) -> Response:
    hits = run_search(store_of(request), q) if q.strip() else []
    return render(request, "search.html", q=q, hits=hits)
