"""Actors, attributions with their bases and history, and accountability events.

Neutral by construction: an actor belongs to a party named in free text, any party;
nothing assumes which side did what. Attribution history is only ever appended.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from testament.accounts.models import User
from testament.catalog.models import Asset, Base, utcnow


class Actor(Base):
    """A force, formation, unit or individual; `search_key` holds its names folded for search."""

    __tablename__ = "actors"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(Text)
    party: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), index=True)
    rank: Mapped[str] = mapped_column(String(200), default="")
    service_start: Mapped[date | None] = mapped_column(Date)
    service_end: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")
    search_key: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    parent: Mapped[Actor | None] = relationship(remote_side=[id], lazy="joined", join_depth=3)
    aliases: Mapped[list[ActorAlias]] = relationship(
        cascade="all, delete-orphan", order_by="ActorAlias.id", lazy="selectin"
    )
    positions: Mapped[list[ActorPosition]] = relationship(
        order_by="ActorPosition.id", lazy="selectin"
    )


class ActorAlias(Base):
    """Another name of an actor, in any script (its language tag, such as hy or az-Cyrl)."""

    __tablename__ = "actor_aliases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(16), default="")


class ActorPosition(Base):
    """Where a unit was known to be: a place and or coordinates, over dates, with its source.

    A geolocation basis may point at one, so that "filmed where this unit was" names
    both the footage and the preserved source that places the unit there.
    """

    __tablename__ = "actor_positions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id"), index=True)
    place_name: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    start: Mapped[date | None] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date)
    source_asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    source: Mapped[Asset] = relationship(lazy="joined")


class ActorEvent(Base):
    """One entry of an actor's history: created, parent changed, alias added or removed."""

    __tablename__ = "actor_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id"), index=True)
    time: Mapped[datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(24))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Attribution(Base):
    """An incident attributed to an actor in a role, with a confidence and a review status."""

    __tablename__ = "attributions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    actor_id: Mapped[int] = mapped_column(ForeignKey("actors.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="proposed")
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None]

    actor: Mapped[Actor] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="joined")
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id], lazy="joined")
    bases: Mapped[list[AttributionBasis]] = relationship(
        cascade="all, delete-orphan", order_by="AttributionBasis.id", lazy="selectin"
    )


class AttributionBasis(Base):
    """Why: a kind of basis and the evidence it points at (a segment or a frame region).

    `region` is [x, y, width, height] as fractions of the frame, at `start` seconds.
    Bases carried over from free-text perpetrator rows point at no asset.
    """

    __tablename__ = "attribution_bases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attribution_id: Mapped[int] = mapped_column(
        ForeignKey("attributions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    start: Mapped[float | None] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float)
    region: Mapped[list[float] | None] = mapped_column(JSON)
    position_id: Mapped[int | None] = mapped_column(ForeignKey("actor_positions.id"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")

    asset: Mapped[Asset | None] = relationship(lazy="joined")
    position: Mapped[ActorPosition | None] = relationship(lazy="joined")


class AttributionEvent(Base):
    """One entry of an attribution's history: proposed, basis added, edited, reviewed."""

    __tablename__ = "attribution_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    attribution_id: Mapped[int] = mapped_column(ForeignKey("attributions.id"), index=True)
    time: Mapped[datetime] = mapped_column(default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(24))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    user: Mapped[User] = relationship(lazy="joined")


class AccountabilityEvent(Base):
    """What an authority did about an incident or an actor, with its preserved source."""

    __tablename__ = "accountability_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    day: Mapped[date] = mapped_column(Date)
    authority: Mapped[str] = mapped_column(Text)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("actors.id"), index=True)
    source_asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    actor: Mapped[Actor | None] = relationship(lazy="joined")
    source: Mapped[Asset] = relationship(lazy="joined")
    created_by: Mapped[User] = relationship(lazy="joined")
