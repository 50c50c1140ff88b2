"""Incident records: what is alleged, where, when, by and against whom, and how sure we are.

Neutral by construction: victims are described, never assigned a "side"; who is alleged
to have done it is an attribution to an actor (testament.actors), any party. Comments,
reviews and feed events are only ever appended.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from testament.accounts.models import User
from testament.catalog.models import Asset, Base, utcnow


class ViolationType(Base):
    """One entry of the violation taxonomy; admins edit it, entries are retired, not deleted."""

    __tablename__ = "violation_types"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(100))
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class IncidentViolation(Base):
    __tablename__ = "incident_violations"

    incident_id: Mapped[int] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True
    )
    violation_id: Mapped[int] = mapped_column(ForeignKey("violation_types.id"), primary_key=True)


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="new", index=True)
    # Event time: a best estimate with bounds; any may be unknown.
    event_time: Mapped[datetime | None]
    event_earliest: Mapped[datetime | None]
    event_latest: Mapped[datetime | None]
    location_name: Mapped[str] = mapped_column(Text, default="")
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    location_precision: Mapped[str | None] = mapped_column(String(32))
    location_method: Mapped[str | None] = mapped_column(String(32))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id], lazy="joined")
    violations: Mapped[list[ViolationType]] = relationship(
        secondary="incident_violations", order_by="ViolationType.id", lazy="selectin"
    )
    victims: Mapped[list[VictimGroup]] = relationship(
        cascade="all, delete-orphan", order_by="VictimGroup.id", lazy="selectin"
    )
    assets: Mapped[list[IncidentAsset]] = relationship(
        cascade="all, delete-orphan", order_by="IncidentAsset.id", lazy="selectin"
    )


class VictimGroup(Base):
    __tablename__ = "incident_victims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    count: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(24))
    age_group: Mapped[str] = mapped_column(String(16), default="unknown")
    sex: Mapped[str] = mapped_column(String(16), default="unknown")


class IncidentAsset(Base):
    """An asset that supports an incident, optionally only a segment of it (seconds)."""

    __tablename__ = "incident_assets"
    __table_args__ = (UniqueConstraint("incident_id", "asset_id", "start", "end"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    start: Mapped[float | None] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str] = mapped_column(Text, default="")

    asset: Mapped[Asset] = relationship(lazy="joined")


class Comment(Base):
    """A comment on an incident; there is no way to delete or edit one."""

    __tablename__ = "incident_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    author: Mapped[User] = relationship(lazy="joined")


class FeedEvent(Base):
    """One entry of an incident's history: every change, with old and new values."""

    __tablename__ = "incident_feed"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    time: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(24))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User] = relationship(lazy="joined")


class ReferenceDate(Base):
    """A date drawn on the timeline for context, such as a ceasefire taking effect."""

    __tablename__ = "reference_dates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    label: Mapped[str] = mapped_column(String(200))


class WorkbenchSetting(Base):
    """Settings an admin changes in the browser (the map's tile URL)."""

    __tablename__ = "workbench_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SearchDocument(Base):
    """Text to search: one row per capture, asset, incident or comment.

    SQLite indexes it with FTS5 and PostgreSQL with a GIN full-text index, both created
    by migration 0003.
    """

    __tablename__ = "search_documents"
    __table_args__ = (UniqueConstraint("kind", "ref"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text, default="")
    body: Mapped[str] = mapped_column(Text, default="")
