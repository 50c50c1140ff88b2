"""Footage groups: assets joined by footage links, with the earliest known capture marked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset, Capture, FingerprintRecord, FootageLink
from testament.catalog.records import iso

SAME_SCENE = "same_scene"


@dataclass
class FootageGroup:
    members: list[Asset]
    links: list[FootageLink]
    durations: dict[int, float | None] = field(default_factory=dict)

    def earliest(self) -> tuple[Asset, Capture] | None:
        """The member first seen: earliest posting time, then earliest collection."""
        sightings = [(asset, c) for asset in self.members for c in asset.captures]
        if not sightings:
            return None

        def order(pair: tuple[Asset, Capture]) -> tuple[bool, datetime, datetime]:
            capture = pair[1]
            posted = capture.posted_at or capture.collected_at
            return (capture.posted_at is None, posted, capture.collected_at)

        return min(sightings, key=order)

    def as_dict(self) -> dict[str, Any]:
        by_id = {asset.id: asset for asset in self.members}
        first = self.earliest()
        return {
            "members": [
                {
                    "sha256": asset.sha256,
                    "filename": asset.original_filename,
                    "media_type": asset.media_type,
                    "duration": self.durations.get(asset.id),
                    "captures": len(asset.captures),
                    "earliest_posted_at": iso(
                        min((c.posted_at for c in asset.captures if c.posted_at), default=None)
                    ),
                    "earliest": first is not None and first[0].id == asset.id,
                }
                for asset in self.members
            ],
            "earliest_capture": None
            if first is None
            else {
                "sha256": first[0].sha256,
                "capture_id": first[1].id,
                "platform": first[1].platform,
                "channel": first[1].channel,
                "url": first[1].url,
                "posted_at": iso(first[1].posted_at),
                "collected_at": iso(first[1].collected_at),
            },
            "links": [
                {
                    "a": by_id[link.asset_a_id].sha256,
                    "relation": link.relation,
                    "b": by_id[link.asset_b_id].sha256,
                    "offset": link.offset,
                    "asset_time": link.asset_time,
                    "asset_times": link_intervals(link),
                    "score": round(link.score, 3),
                }
                for link in self.links
            ],
        }


def _components(links: list[FootageLink]) -> list[set[int]]:
    parent: dict[int, int] = {}

    def root(node: int) -> int:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for link in links:
        parent[root(link.asset_a_id)] = root(link.asset_b_id)
    groups: dict[int, set[int]] = {}
    for node in list(parent):
        groups.setdefault(root(node), set()).add(node)
    return list(groups.values())


def footage_groups(session: Session, asset_id: int | None = None) -> list[FootageGroup]:
    """Every group of two or more assets showing the same footage, or the one holding `asset_id`.

    Assets filmed at one place by one camera (`same_scene` links) are not the same
    footage and are never joined into a group by that link.
    """
    links = list(
        session.execute(
            select(FootageLink).where(FootageLink.relation != SAME_SCENE).order_by(FootageLink.id)
        ).scalars()
    )
    components = _components(links)
    if asset_id is not None:
        components = [c for c in components if asset_id in c]
    groups = []
    for component in components:
        members = list(
            session.execute(
                select(Asset).where(Asset.id.in_(component)).order_by(Asset.id)
            ).scalars()
        )
        durations = dict(
            session.execute(
                select(FingerprintRecord.asset_id, FingerprintRecord.duration).where(
                    FingerprintRecord.asset_id.in_(component)
                )
            ).all()
        )
        group = FootageGroup(members, [k for k in links if k.asset_a_id in component], durations)
        groups.append(group)
    groups.sort(key=lambda g: min(a.id for a in g.members))
    return groups


def link_intervals(link: FootageLink) -> list[list[float]]:
    """Every interval of the asset a still was matched to, best first (stored as segments)."""
    if link.relation != "still_from":
        return []
    return [[s["asset_start"], s["asset_end"]] for s in link.segments or []]


def same_scene_links(session: Session, asset_id: int) -> list[dict[str, Any]]:
    """Assets filmed at the same place by the same camera as `asset_id`, other footage.

    A lead for linking videos of one location, never a match of the footage: these links
    join no group, so they are listed with the asset (the workbench does the same).
    """
    links = session.execute(
        select(FootageLink)
        .where(
            or_(FootageLink.asset_a_id == asset_id, FootageLink.asset_b_id == asset_id),
            FootageLink.relation == SAME_SCENE,
        )
        .order_by(FootageLink.id)
    ).scalars()
    best: dict[int, float] = {}
    for link in links:
        other = link.asset_b_id if link.asset_a_id == asset_id else link.asset_a_id
        best[other] = max(best.get(other, 0.0), link.score)
    assets = session.execute(select(Asset).where(Asset.id.in_(best)).order_by(Asset.id)).scalars()
    return [
        {
            "sha256": asset.sha256,
            "filename": asset.original_filename,
            "media_type": asset.media_type,
            "score": round(best[asset.id], 3),
        }
        for asset in assets
    ]
