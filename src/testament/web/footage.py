"""The footage group of an asset, read straight from the catalog's footage links."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset, FootageLink
from testament.footage.groups import SAME_SCENE


@dataclass
class Group:
    members: list[Asset]  # the asset itself excluded
    links: list[FootageLink]  # every link inside the group
    scenes: list[FootageLink]  # same place and camera, other footage: not in the group


def group_of(session: Session, asset_id: int, limit: int = 500) -> Group:
    """Every asset joined to `asset_id` through footage links, however indirectly.

    A `same_scene` link joins nothing: it is listed with the asset, not followed.
    """
    seen, frontier, links = {asset_id}, [asset_id], {}
    while frontier and len(seen) < limit:
        rows = session.execute(
            select(FootageLink).where(
                or_(FootageLink.asset_a_id.in_(frontier), FootageLink.asset_b_id.in_(frontier)),
                FootageLink.relation != SAME_SCENE,
            )
        ).scalars()
        frontier = []
        for link in rows:
            links[link.id] = link
            for other in (link.asset_a_id, link.asset_b_id):
                if other not in seen:
                    seen.add(other)
                    frontier.append(other)
    scenes = list(
        session.execute(
            select(FootageLink)
            .where(
                or_(FootageLink.asset_a_id == asset_id, FootageLink.asset_b_id == asset_id),
                FootageLink.relation == SAME_SCENE,
            )
            .order_by(FootageLink.id)
        ).scalars()
    )
    related = seen | {i for link in scenes for i in (link.asset_a_id, link.asset_b_id)}
    members = session.execute(
        select(Asset).where(Asset.id.in_(related - {asset_id})).order_by(Asset.id)
    ).scalars()
    return Group(list(members), sorted(links.values(), key=lambda link: link.id), scenes)
