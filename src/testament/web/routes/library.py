"""The library: every asset as a grid or a table, filtered and sorted."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from testament.catalog.library import library_query
from testament.catalog.models import Asset, Capture
from testament.enrich.language import NAMES
from testament.enrich.models import AnalysisText
from testament.investigate.models import Incident
from testament.web.auth import Viewer, any_user, store_of
from testament.web.pages import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 60


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
