"""The library's question: which assets match these filters, in which order. Asked by the
workbench's library page, `/api/assets` and `testament assets`, so that a filter means the
same everywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

from sqlalchemy import Select, and_, exists, func, select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset, Capture, FootageLink
from testament.enrich.models import AnalysisText
from testament.footage.groups import SAME_SCENE
from testament.investigate.models import Incident, IncidentAsset


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


def grouped_asset_ids(session: Session) -> set[int]:
    rows = session.execute(
        select(FootageLink.asset_a_id, FootageLink.asset_b_id).where(
            FootageLink.relation != SAME_SCENE
        )
    ).all()
    return {i for row in rows for i in row}
