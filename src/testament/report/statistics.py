"""Counts over the whole store for the case report: assets, captures, footage, first postings.

Every figure is counted from the catalog as it is, so the report states what the locker
holds rather than what the incidents cite.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset, Capture, FootageLink
from testament.footage.groups import SAME_SCENE, footage_groups


@dataclass
class MediaType:
    count: int = 0
    size: int = 0
    parse_errors: int = 0


@dataclass
class EarliestPosting:
    """The first known sighting of one footage group."""

    group: int
    sha256: str
    filename: str | None
    posted_at: datetime | None
    collected_at: datetime
    where: str
    dated_postings: int
    last_posted_at: datetime | None


@dataclass
class StoreStatistics:
    media_types: dict[str, MediaType] = field(default_factory=dict)
    parse_errors: list[tuple[str, str, str]] = field(default_factory=list)
    captures: int = 0
    without_media: int = 0
    platforms: Counter[str] = field(default_factory=Counter)
    months: Counter[str] = field(default_factory=Counter)
    undated: int = 0
    group_sizes: Counter[int] = field(default_factory=Counter)
    grouped_assets: int = 0
    relations: Counter[str] = field(default_factory=Counter)
    earliest: list[EarliestPosting] = field(default_factory=list)

    @property
    def assets(self) -> int:
        return sum(t.count for t in self.media_types.values())

    @property
    def size(self) -> int:
        return sum(t.size for t in self.media_types.values())

    @property
    def groups(self) -> int:
        return sum(self.group_sizes.values())


def platform_label(capture: Capture) -> str:
    """The platform, or for a capture without one, how it was collected."""
    return capture.platform or f"no platform (collected by {capture.method})"


def where(capture: Capture) -> str:
    parts = [capture.platform, capture.channel, capture.url]
    return " ".join(p for p in parts if p) or f"collected by {capture.method}"


def gather(session: Session) -> StoreStatistics:
    stats = StoreStatistics()
    for asset in session.execute(select(Asset).order_by(Asset.id)).scalars():
        kind = stats.media_types.setdefault(asset.media_type, MediaType())
        kind.count += 1
        kind.size += asset.size
        if asset.parse_error:
            kind.parse_errors += 1
            name = asset.original_filename or ""
            stats.parse_errors.append((asset.sha256[:12], name, asset.parse_error))
    for capture in session.execute(select(Capture)).scalars():
        stats.captures += 1
        stats.without_media += int(capture.asset_id is None)
        stats.platforms[platform_label(capture)] += 1
        if capture.posted_at:
            stats.months[capture.posted_at.strftime("%Y-%m")] += 1
        else:
            stats.undated += 1
    for relation in session.execute(select(FootageLink.relation)).scalars():
        stats.relations[relation] += 1
    for number, group in enumerate(footage_groups(session), start=1):
        stats.group_sizes[len(group.members)] += 1
        stats.grouped_assets += len(group.members)
        first = group.earliest()
        if first is None:
            continue
        asset, capture = first
        posted = [c.posted_at for a in group.members for c in a.captures if c.posted_at]
        stats.earliest.append(
            EarliestPosting(
                number,
                asset.sha256,
                asset.original_filename,
                capture.posted_at,
                capture.collected_at,
                where(capture),
                len(posted),
                max(posted, default=None),
            )
        )
    return stats


def same_scene(stats: StoreStatistics) -> int:
    """Links between assets filmed at one place that are not the same footage."""
    return stats.relations.get(SAME_SCENE, 0)
