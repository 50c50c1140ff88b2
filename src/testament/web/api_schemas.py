"""What the JSON API answers, as Pydantic models: /api/openapi.json names every field.

Times are ISO 8601 strings in UTC ("2020-12-10T09:30:00Z"), as the CLI's --json and the
evidence packages write them. Vocabulary fields (statuses, confidence, ...) are plain
strings here so that a value recorded by an older version is still answered, not a 500;
the input models in `testament.investigate.fields` hold the allowed values.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

Time = str  # ISO 8601, UTC


class Me(BaseModel):
    username: str
    role: str = Field(description="viewer, investigator, reviewer or admin")


class CaptureOut(BaseModel):
    """One sighting of an asset: where, when and by whom it was collected."""

    id: int
    sha256: str | None = Field(description="the asset's SHA-256; null when the media is missing")
    method: str = Field(description="how it was collected: file, telegram, csv, url, upload, ...")
    platform: str | None
    url: str | None
    channel: str | None
    channel_id: str | None
    post_id: str | None
    post_text: str | None
    posted_at: Time | None
    forwarded_from: str | None
    views: int | None
    reply_to: str | None
    note: str | None
    source_path: str | None
    filename: str | None
    media_missing: bool
    missing_reason: str | None
    tool: str | None
    collected_at: Time | None
    collected_by: str | None
    raw: Any = Field(None, description="the platform's own metadata, as collected")


class AssetOut(BaseModel):
    """One preserved original."""

    sha256: str
    md5: str
    sha512: str
    size: int = Field(description="bytes")
    media_type: str = Field(description="video, image, audio, document or other")
    mime_type: str | None
    original_filename: str | None
    probe: dict[str, Any] | None = Field(description="container, streams, duration, EXIF, GPS")
    parse_error: str | None
    probed_at: Time | None
    stored_at: Time | None
    stored_by: str
    capture_count: int


class FootageLinkOut(BaseModel):
    """ "a relation b": a is the same footage as, a clip of, or a still from b."""

    a: str = Field(description="SHA-256")
    relation: str
    b: str = Field(description="SHA-256")
    offset: float | None = Field(description="seconds from b's start to a's start")
    asset_time: float | None = Field(description="for a still, the second of b it shows")
    score: float | None


class AssetIncident(BaseModel):
    id: int
    title: str
    status: str
    start: float | None = Field(description="the linked segment, in seconds")
    end: float | None


class JobOut(BaseModel):
    id: int
    task: str = Field(description="fingerprint, thumbnails, ...")
    subject: str
    queue: str
    state: str = Field(description="queued, running, failed or done")
    attempts: int
    error: str | None = Field(description="why the last attempt failed")
    worker: str | None
    queued_at: str
    started_at: str | None
    finished_at: str | None


class AssetDetail(AssetOut):
    captures: list[CaptureOut]
    footage_links: list[FootageLinkOut]
    incidents: list[AssetIncident]
    jobs: list[JobOut] = Field(
        description="work queued for workers on this asset (empty in the embedded default)"
    )


class VictimsOut(BaseModel):
    count: int | None
    status: str = Field(description="civilian, prisoner_of_war, combatant or unknown")
    age_group: str | None
    sex: str | None


class LinkedAsset(BaseModel):
    link_id: int
    sha256: str
    start: float | None = Field(description="seconds from the asset's start")
    end: float | None
    note: str | None


class FeedEntry(BaseModel):
    """One entry of an incident's history: a change, a status, a review, a comment."""

    time: Time | None
    actor: str
    kind: str
    details: dict[str, Any]
    comment: str | None = Field(None, description="the comment's text, for a comment")


class IncidentOut(BaseModel):
    """An incident; who it is attributed to is at /api/incidents/{id}/attributions."""

    id: int
    status: str = Field(
        description="new, in_progress, needs_review, verified, disputed or rejected"
    )
    created_by: str
    created_at: Time | None
    updated_at: Time | None
    title: str
    summary: str | None
    violations: list[str] = Field(description="violation type codes")
    event_time: Time | None = Field(description="best estimate")
    event_earliest: Time | None
    event_latest: Time | None
    location_name: str | None
    latitude: float | None
    longitude: float | None
    location_precision: str | None
    location_method: str | None
    victims: list[VictimsOut]
    tags: list[str]
    assignee: str | None = Field(description="username")
    assets: list[LinkedAsset]


class IncidentDetail(IncidentOut):
    feed: list[FeedEntry] = Field(description="the incident's history, oldest first")


class MatchQuery(BaseModel):
    sha256: str
    kind: str = Field(description="video or image")
    duration: float | None


class MatchSegment(BaseModel):
    query_start: float | None
    query_end: float | None
    asset_start: float | None
    asset_end: float | None


class MatchOut(BaseModel):
    sha256: str
    filename: str | None
    relation: str = Field(description="the query is ... the asset: identical, re-encode, ...")
    score: float
    query_coverage: float
    asset_coverage: float
    offset: float | None
    asset_time: float | None
    asset_times: list[list[float | None]] = Field(description="[start, end] seconds of the asset")
    segments: list[MatchSegment]


class MatchResult(BaseModel):
    query: MatchQuery
    matches: list[MatchOut] = Field(description="best first")


class SearchHit(BaseModel):
    kind: str = Field(description="capture, asset, incident or comment")
    ref: int
    title: str
    snippet: str
    link: str | None = Field(description="the workbench page it leads to")
