"""The map of incidents and the timeline of event dates against posting dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import select

from testament.catalog.models import Capture
from testament.catalog.records import iso
from testament.investigate.models import Incident, ReferenceDate
from testament.web.auth import Viewer, any_user, store_of
from testament.web.pages import render

router = APIRouter(include_in_schema=False)


@router.get("/map")
def map_page(request: Request, viewer: Annotated[Viewer, Depends(any_user)]) -> Response:
    return render(request, "map.html", tile_url=request.app.state.tile_url)


@router.get("/map/incidents.json")
def map_points(request: Request, viewer: Annotated[Viewer, Depends(any_user)]) -> Response:
    """GeoJSON of located incidents; the page escapes every string it shows."""
    with store_of(request).read() as session:
        found = (
            session.execute(select(Incident).where(Incident.latitude.is_not(None)))
            .unique()
            .scalars()
        )
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [i.longitude, i.latitude]},
                "properties": {
                    "id": i.id,
                    "title": i.title,
                    "status": i.status,
                    "precision": i.location_precision,
                    "method": i.location_method,
                    "event_time": iso(i.event_time),
                    "location": i.location_name,
                },
            }
            for i in found
        ]
    return JSONResponse({"type": "FeatureCollection", "features": features})


def timeline_rows(session) -> tuple[list[dict[str, Any]], list[ReferenceDate], datetime, datetime]:
    """Per incident: the event estimate and bounds, and the posting times of its assets."""
    rows = []
    for incident in session.execute(select(Incident).order_by(Incident.id)).unique().scalars():
        asset_ids = [link.asset_id for link in incident.assets]
        posted = sorted(
            t
            for t in session.execute(
                select(Capture.posted_at).where(Capture.asset_id.in_(asset_ids))
            ).scalars()
            if t is not None
        )
        times = [
            t for t in (incident.event_time, incident.event_earliest, incident.event_latest) if t
        ]
        if times or posted:
            rows.append({"incident": incident, "posted": posted, "times": times + posted})
    references = list(session.execute(select(ReferenceDate).order_by(ReferenceDate.day)).scalars())
    moments = [t for row in rows for t in row["times"]] + [
        datetime.combine(r.day, datetime.min.time(), tzinfo=UTC) for r in references
    ]
    start = min(moments, default=datetime.now(UTC)) - timedelta(days=1)
    end = max(moments, default=datetime.now(UTC)) + timedelta(days=1)
    return rows, references, start, end


@router.get("/timeline")
def timeline(request: Request, viewer: Annotated[Viewer, Depends(any_user)]) -> Response:
    with store_of(request).read() as session:
        rows, references, start, end = timeline_rows(session)
        span = (end - start).total_seconds()

        def x(moment: datetime) -> float:
            return round(1000 * (moment - start).total_seconds() / span, 2)

        return render(
            request,
            "timeline.html",
            rows=rows,
            references=references,
            start=start,
            end=end,
            x=x,
            day=lambda d: datetime.combine(d, datetime.min.time(), tzinfo=UTC),
        )
