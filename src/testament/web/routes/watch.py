"""Watched sources and the alert inbox, as workbench pages and under /api.

Anyone signed in may look; investigators add, pause, resume and remove sources, mark
alerts seen and link them to incidents. A folder source reads the server's own disk, so
it is added on the server (`testament watch add PATH --kind folder`), never from a form.
Post text and addresses come from the sources and are hostile: templates escape them,
and a post's address becomes a link only when it is http or https.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import select

from testament.catalog.models import Asset
from testament.catalog.records import iso
from testament.investigate.incidents import IncidentError
from testament.investigate.models import Incident
from testament.web.auth import Viewer, any_user, investigator, store_of
from testament.web.pages import render
from testament.web.params import MAX_ID, Offset, RecordId

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api", tags=["watch"])
PAGE_SIZE = 50
WEB_KINDS = ("telegram", "feed", "ytdlp")
ALERT_KINDS = ("new_footage", "known_footage", "media_missing", "source_error", "post_removed")
Limit = Annotated[int, Query(ge=1, le=1000)]


class WatchRefused(Exception):
    """A change to a source or an alert that cannot be made; the message is one line."""


# --- what the API answers -------------------------------------------------------------


class SourceOut(BaseModel):
    id: int
    kind: str
    url: str
    name: str
    status: str = Field(description="active, paused or removed")
    every_seconds: int
    since: str | None
    last_run_at: str | None
    last_success_at: str | None
    last_error: str | None
    last_error_at: str | None
    failures: int = Field(description="consecutive failed polls (the back-off grows with them)")
    next_run_at: str | None
    posts: int
    media: int
    alerts: int
    pages_waiting: int = Field(description="its posts' pages not captured yet")
    last_page_error: str | None = Field(
        description="why the last page that failed was not captured (still waiting, or "
        "failed for good)"
    )


class SourceIn(BaseModel):
    address: str = Field(min_length=1, max_length=2000, description="an http or https address")
    kind: Literal["telegram", "feed", "ytdlp"] | None = Field(
        None, description="default: guessed from the address"
    )
    every: str = Field("15m", max_length=20, description="30s, 15m, 2h, 1d or 1w")
    since: str | None = Field(
        None, max_length=40, description="on the first run, collect posts back to this date"
    )


class PostOut(BaseModel):
    id: int
    url: str | None
    channel: str | None
    author: str | None
    text: str | None
    posted_at: str | None
    state: str


class PageCaptureOut(BaseModel):
    id: int
    url: str
    final_url: str
    status_code: int | None
    captured_at: str | None
    screenshot_sha256: str | None
    archive_sha256: str | None
    certificates_sha256: str | None
    headers_sha256: str | None


class AlertOut(BaseModel):
    id: int
    kind: str
    created_at: str | None
    message: str
    source_id: int | None
    source_url: str | None
    post: PostOut | None
    capture_id: int | None
    asset_sha256: str | None
    page_capture: PageCaptureOut | None
    details: dict[str, Any] | None
    seen_at: str | None
    seen_by: str | None
    incident_id: int | None


class AlertLinkIn(BaseModel):
    incident_id: int = Field(ge=1, le=MAX_ID)


# --- shared by pages and API ----------------------------------------------------------


def _source_outs(request: Request, sources: list[Any]) -> list[SourceOut]:
    from testament.watch.page_records import page_status
    from testament.watch.sources import SourceView

    with store_of(request).read() as session:
        pages = page_status(session, [s.id for s in sources])
    return [SourceOut(**SourceView(s).as_dict(), **pages[s.id]) for s in sources]


def _sources(request: Request) -> list[SourceOut]:
    from testament.watch.sources import list_sources

    return _source_outs(request, list_sources(store_of(request)))


def _add_source(
    request: Request, address: str, kind: str | None, every: str, since: str | None
) -> SourceOut:
    from testament.watch.sources import (
        SourceError,
        add_source,
        guess_kind,
        parse_duration,
        parse_since,
    )

    address = address.strip()
    try:
        chosen = kind or guess_kind(address)
        if chosen not in (*WEB_KINDS, "folder"):
            raise WatchRefused(f"unknown kind {chosen!r} (one of {', '.join(WEB_KINDS)})")
        if chosen == "folder":
            raise WatchRefused(
                f"{address or 'an empty address'}: only http or https sources are added here; "
                "a folder is added on the server with 'testament watch add PATH --kind folder'"
            )
        source = add_source(
            store_of(request),
            address,
            chosen,
            parse_duration(every),
            parse_since(since) if since else None,
        )
    except SourceError as exc:
        raise WatchRefused(str(exc)) from exc
    return _source_outs(request, [source])[0]


def _set_status(request: Request, source_id: int, status: str) -> SourceOut:
    from testament.watch.sources import SourceError, set_status

    try:
        source = set_status(store_of(request), source_id, status)
    except SourceError as exc:
        raise WatchRefused(str(exc)) from exc
    return _source_outs(request, [source])[0]


def _shas(request: Request, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    with store_of(request).read() as session:
        query = select(Asset.id, Asset.sha256).where(Asset.id.in_(ids))
        return dict(session.execute(query).all())  # type: ignore[arg-type]


def _alert_out(row: Any, shas: dict[int, str]) -> AlertOut:
    alert, post, page = row.alert, row.post, row.page
    return AlertOut(
        id=alert.id,
        kind=alert.kind,
        created_at=iso(alert.created_at),
        message=alert.message,
        source_id=alert.source_id,
        source_url=row.source.url if row.source else None,
        post=None
        if post is None
        else PostOut(
            id=post.id,
            url=post.url,
            channel=post.channel,
            author=post.author,
            text=post.text,
            posted_at=iso(post.posted_at),
            state=post.state,
        ),
        capture_id=alert.capture_id,
        asset_sha256=row.asset.sha256 if row.asset else None,
        page_capture=None
        if page is None
        else PageCaptureOut(
            id=page.id,
            url=page.url,
            final_url=page.final_url,
            status_code=page.status_code,
            captured_at=iso(page.captured_at),
            screenshot_sha256=shas.get(page.screenshot_asset_id),
            archive_sha256=shas.get(page.archive_asset_id),
            certificates_sha256=shas.get(page.certificates_asset_id or 0),
            headers_sha256=shas.get(page.headers_asset_id),
        ),
        details=alert.details,
        seen_at=iso(alert.seen_at),
        seen_by=alert.seen_by,
        incident_id=alert.incident_id,
    )


def _page_asset_ids(rows: list[Any]) -> set[int]:
    return {
        i
        for row in rows
        if row.page is not None
        for i in (
            row.page.screenshot_asset_id,
            row.page.archive_asset_id,
            row.page.certificates_asset_id,
            row.page.headers_asset_id,
        )
        if i is not None
    }


def _alert_rows(
    request: Request,
    kinds: list[str],
    unseen: bool,
    limit: int,
    offset: int,
    since: datetime | None = None,
) -> tuple[list[Any], int]:
    from testament.watch.inbox import inbox

    unknown = [k for k in kinds if k not in ALERT_KINDS]
    if unknown:
        raise HTTPException(
            400, f"unknown alert kind {unknown[0]!r} (one of {', '.join(ALERT_KINDS)})"
        )
    with store_of(request).read() as session:
        return inbox(session, kinds=kinds, unseen=unseen, limit=limit, offset=offset, since=since)


def _one_alert(request: Request, alert_id: int) -> AlertOut:
    from testament.watch.inbox import InboxError, row_of

    try:
        with store_of(request).read() as session:
            row = row_of(session, alert_id)
    except InboxError as exc:
        raise HTTPException(404, f"No alert {alert_id}.") from exc
    return _alert_out(row, _shas(request, _page_asset_ids([row])))


def _mark_seen(request: Request, alert_id: int, viewer: Viewer) -> None:
    from testament.watch.inbox import InboxError, mark_seen

    try:
        mark_seen(store_of(request), alert_id, viewer.username)
    except InboxError as exc:
        raise HTTPException(404, f"No alert {alert_id}.") from exc


def _link(request: Request, alert_id: int, incident_id: int, viewer: Viewer) -> None:
    from testament.watch.inbox import InboxError, link_to_incident

    try:
        link_to_incident(store_of(request), alert_id, incident_id, viewer.id)
    except (InboxError, IncidentError) as exc:
        raise WatchRefused(str(exc)) from exc


# --- pages ----------------------------------------------------------------------------


def _sources_page(request: Request, status_code: int = 200, **extra: object) -> Response:
    context: dict[str, Any] = {"sources": _sources(request), "kinds": WEB_KINDS}
    context |= {"error": None, "notice": None, "form": {}} | extra
    return render(request, "watch_sources.html", status_code=status_code, **context)


@router.get("/sources")
def sources_page(request: Request, viewer: Annotated[Viewer, Depends(any_user)]) -> Response:
    return _sources_page(request)


@router.post("/sources")
def add_source_form(
    request: Request,
    viewer: Annotated[Viewer, Depends(investigator)],
    address: Annotated[str, Form(max_length=2000)],
    kind: Annotated[str, Form(max_length=16)] = "",
    every: Annotated[str, Form(max_length=20)] = "15m",
    since: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    form = {"address": address, "kind": kind, "every": every, "since": since}
    try:
        added = _add_source(request, address, kind or None, every, since.strip() or None)
    except WatchRefused as exc:
        return _sources_page(request, 400, error=str(exc), form=form)
    return _sources_page(request, notice=f"Watching {added.url} as source {added.id}.")


def _status_form(request: Request, source_id: int, status: str, done: str) -> Response:
    try:
        changed = _set_status(request, source_id, status)
    except WatchRefused as exc:
        return _sources_page(request, 400, error=str(exc))
    return _sources_page(request, notice=f"Source {changed.id} {done}.")


@router.post("/sources/{source_id}/pause")
def pause_source_form(
    request: Request, source_id: RecordId, viewer: Annotated[Viewer, Depends(investigator)]
) -> Response:
    return _status_form(request, source_id, "paused", "paused")


@router.post("/sources/{source_id}/resume")
def resume_source_form(
    request: Request, source_id: RecordId, viewer: Annotated[Viewer, Depends(investigator)]
) -> Response:
    return _status_form(request, source_id, "active", "resumed: its next poll is due now")


@router.post("/sources/{source_id}/remove")
def remove_source_form(
    request: Request, source_id: RecordId, viewer: Annotated[Viewer, Depends(investigator)]
) -> Response:
    return _status_form(request, source_id, "removed", "removed (its posts and alerts are kept)")


@router.get("/alerts")
def alerts_page(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    kind: Annotated[list[str], Query(max_length=5)] = [],  # noqa: B006 - FastAPI copies it
    unseen: bool = False,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    linked: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    rows, total = _alert_rows(request, kind, unseen, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    with store_of(request).read() as session:
        incidents = session.execute(
            select(Incident.id, Incident.title).order_by(Incident.id.desc()).limit(200)
        ).all()
    return render(
        request,
        "alerts.html",
        rows=rows,
        total=total,
        page=page,
        pages=-(-total // PAGE_SIZE),
        kinds=ALERT_KINDS,
        chosen=kind,
        unseen=unseen,
        incidents=incidents,
        # Made here from a number: text from the address would let a link put words here.
        notice=None if linked is None else f"Linked to incident #{linked}.",
    )


def _back_to_inbox(alert_id: int, linked: int | None = None) -> Response:
    query = "" if linked is None else f"?linked={linked}"
    return RedirectResponse(f"/alerts{query}#alert-{alert_id}", status_code=303)


@router.post("/alerts/{alert_id}/seen")
def mark_seen_form(
    request: Request, alert_id: RecordId, viewer: Annotated[Viewer, Depends(investigator)]
) -> Response:
    _mark_seen(request, alert_id, viewer)
    return _back_to_inbox(alert_id)


@router.post("/alerts/{alert_id}/incident")
def link_alert_form(
    request: Request,
    alert_id: RecordId,
    viewer: Annotated[Viewer, Depends(investigator)],
    incident_id: Annotated[int, Form(ge=1, le=MAX_ID)],
) -> Response:
    try:
        _link(request, alert_id, incident_id, viewer)
    except WatchRefused as exc:
        raise HTTPException(400, str(exc)) from exc
    return _back_to_inbox(alert_id, incident_id)


# --- the JSON API ---------------------------------------------------------------------


@api_router.get("/sources")
def api_sources(request: Request, viewer: Annotated[Viewer, Depends(any_user)]) -> list[SourceOut]:
    """Watched sources: last run and error, counts, next run."""
    return _sources(request)


@api_router.post("/sources", status_code=201)
def api_add_source(
    request: Request, body: SourceIn, viewer: Annotated[Viewer, Depends(investigator)]
) -> SourceOut:
    """Start watching an http or https source; its first poll is due at once."""
    try:
        return _add_source(request, body.address, body.kind, body.every, body.since)
    except WatchRefused as exc:
        raise HTTPException(400, str(exc)) from exc


def _api_status(request: Request, source_id: int, status: str) -> SourceOut:
    try:
        return _set_status(request, source_id, status)
    except WatchRefused as exc:
        raise HTTPException(404, str(exc)) from exc


@api_router.post("/sources/{source_id}/pause")
def api_pause_source(
    request: Request, source_id: RecordId, viewer: Annotated[Viewer, Depends(investigator)]
) -> SourceOut:
    return _api_status(request, source_id, "paused")


@api_router.post("/sources/{source_id}/resume")
def api_resume_source(
    request: Request, source_id: RecordId, viewer: Annotated[Viewer, Depends(investigator)]
) -> SourceOut:
    return _api_status(request, source_id, "active")


@api_router.delete("/sources/{source_id}")
def api_remove_source(
    request: Request, source_id: RecordId, viewer: Annotated[Viewer, Depends(investigator)]
) -> SourceOut:
    """Stop watching; the source's posts and alerts are kept."""
    return _api_status(request, source_id, "removed")


@api_router.get("/alerts")
def api_alerts(
    request: Request,
    viewer: Annotated[Viewer, Depends(any_user)],
    kind: Annotated[list[str], Query(max_length=5)] = [],  # noqa: B006 - FastAPI copies it
    unseen: bool = False,
    since: datetime | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> list[AlertOut]:
    """Alerts newest first, with their post, media and the capture of the post's page."""
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)  # a time without a zone is UTC, as everywhere
    rows, _total = _alert_rows(request, kind, unseen, limit, offset, since)
    shas = _shas(request, _page_asset_ids(rows))
    return [_alert_out(row, shas) for row in rows]


@api_router.get("/alerts/{alert_id}")
def api_alert(
    request: Request, alert_id: RecordId, viewer: Annotated[Viewer, Depends(any_user)]
) -> AlertOut:
    return _one_alert(request, alert_id)


@api_router.post("/alerts/{alert_id}/seen")
def api_mark_seen(
    request: Request, alert_id: RecordId, viewer: Annotated[Viewer, Depends(investigator)]
) -> AlertOut:
    _mark_seen(request, alert_id, viewer)
    return _one_alert(request, alert_id)


@api_router.post("/alerts/{alert_id}/incident")
def api_link_alert(
    request: Request,
    alert_id: RecordId,
    body: AlertLinkIn,
    viewer: Annotated[Viewer, Depends(investigator)],
) -> AlertOut:
    """Link what the alert preserved (its media, else its post's page archive) to an incident."""
    try:
        _link(request, alert_id, body.incident_id, viewer)
    except WatchRefused as exc:
        raise HTTPException(400, str(exc)) from exc
    return _one_alert(request, alert_id)
