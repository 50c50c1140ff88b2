"""The library: every asset as a grid or a table, filtered and sorted."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset, Capture
from testament.enrich.language import NAMES
from testament.enrich.models import AnalysisText
from testament.investigate.models import Incident, IncidentAsset
from testament.web.auth import Viewer, any_user, store_of
from testament.web.footage import grouped_asset_ids
from testament.web.pages import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 60


def _day(value: date | None, end: bool = False) -> datetime | None:
    if value is None:
        return None
    return datetime.combine(value, time.max if end else time.min, tzinfo=UTC)


def library_query(
    session: Session,
    *,
    platform: str | None = None,
    channel: str | None = None,
    posted_from: date | None = None,
    posted_to: date | None = None,
    media_type: str | None = None,
    incident: int | None = None,
    tag: str | None = None,
    footage: str | None = None,
    errors: bool = False,
    language: str | None = None,
    has_text: bool = False,
    sort: str = "posted",
    order: str = "desc",
) -> Select:
    """Assets matching the filters, in the asked order (unknown posting times last).

    `language` is one identified in the asset's on-screen text, transcript or post
    texts; `has_text` keeps assets where on-screen text was read.
    """
    query = select(Asset)
    capture_filters = []
    if platform:
        capture_filters.append(Capture.platform == platform)
    if channel:
        capture_filters.append(Capture.channel == channel)
    if posted_from:
        capture_filters.append(Capture.posted_at >= _day(posted_from))
    if posted_to:
        capture_filters.append(Capture.posted_at <= _day(posted_to, end=True))
    if capture_filters:
        query = query.where(exists().where(and_(Capture.asset_id == Asset.id, *capture_filters)))
    if media_type:
        query = query.where(Asset.media_type == media_type)
    if errors:
        query = query.where(Asset.parse_error.is_not(None))
    if language:
        query = query.where(
            exists().where(AnalysisText.asset_id == Asset.id, AnalysisText.language == language)
        )
    if has_text:
        query = query.where(
            exists().where(AnalysisText.asset_id == Asset.id, AnalysisText.source == "ocr")
        )
    if incident is not None:
        query = query.where(
            exists().where(
                IncidentAsset.asset_id == Asset.id, IncidentAsset.incident_id == incident
            )
        )
    if tag:
        tagged = [
            i.id for i in session.execute(select(Incident)).scalars() if tag.lower() in i.tags
        ]
        query = query.where(
            exists().where(
                IncidentAsset.asset_id == Asset.id, IncidentAsset.incident_id.in_(tagged)
            )
        )
    if footage in ("grouped", "ungrouped"):
        ids = grouped_asset_ids(session)
        query = query.where(Asset.id.in_(ids) if footage == "grouped" else Asset.id.not_in(ids))
    if sort == "collected":
        key = Asset.stored_at
    else:
        key = (
            select(func.min(Capture.posted_at))
            .where(Capture.asset_id == Asset.id)
            .correlate(Asset)
            .scalar_subquery()
        )
    ordered = key.asc() if order == "asc" else key.desc()
    return query.order_by(key.is_(None), ordered, Asset.id.desc())


def _choices(session: Session, column) -> list[str]:
    return [v for v in session.execute(select(column).distinct().order_by(column)).scalars() if v]


def language_choices(session: Session) -> list[tuple[str, str]]:
    """(code, name) of every language identified in the locker's texts."""
    return [(code, NAMES.get(code, code)) for code in _choices(session, AnalysisText.language)]


@router.get("/")
def home(_viewer: Annotated[Viewer, Depends(any_user)]) -> Response:
    return RedirectResponse("/library", status_code=303)


@router.get("/library")
def library(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    platform: str | None = None,
    channel: str | None = None,
    posted_from: Annotated[date | None, Query()] = None,
    posted_to: Annotated[date | None, Query()] = None,
    media_type: str | None = None,
    incident: int | None = None,
    tag: str | None = None,
    footage: Literal["", "grouped", "ungrouped"] = "",
    errors: bool = False,
    language: str | None = None,
    has_text: bool = False,
    sort: Literal["posted", "collected"] = "posted",
    order: Literal["asc", "desc"] = "desc",
    view: Literal["grid", "table"] = "grid",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    filters = dict(
        platform=platform or None,
        channel=channel or None,
        posted_from=posted_from,
        posted_to=posted_to,
        media_type=media_type or None,
        incident=incident,
        tag=tag or None,
        footage=footage or None,
        errors=errors,
        language=language or None,
        has_text=has_text,
        sort=sort,
        order=order,
    )
    with store_of(request).read() as session:
        query = library_query(session, **filters)
        total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
        assets = (
            session.execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
        )
        options = {
            "platforms": _choices(session, Capture.platform),
            "channels": _choices(session, Capture.channel),
            "media_types": _choices(session, Asset.media_type),
            "languages": language_choices(session),
            "incidents": session.execute(
                select(Incident.id, Incident.title).order_by(Incident.id)
            ).all(),
        }
    return render(
        request,
        "library.html",
        assets=assets,
        total=total,
        page=page,
        pages=-(-total // PAGE_SIZE),
        filters=filters,
        view=view,
        options=options,
    )
