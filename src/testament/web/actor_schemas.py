"""Typed JSON shapes of actors, attributions, accountability events and the case view."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from testament.actors import vocabulary as v

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Seconds = Annotated[float, Field(ge=0, le=10**7)]
Fraction = Annotated[float, Field(ge=0, le=1)]


class AliasModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    language: Annotated[str, StringConstraints(max_length=16)] = ""


class ActorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal[v.KINDS]  # type: ignore[valid-type]
    name: Name
    party: Short = ""
    parent_id: Id | None = None
    rank: Short = ""
    service_start: date | None = None
    service_end: date | None = None
    notes: Annotated[str, StringConstraints(max_length=5000)] = ""
    aliases: list[AliasModel] = Field(default_factory=list, max_length=100)


class AliasOut(BaseModel):
    id: int
    name: str
    language: str


class PositionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source_sha256: Annotated[str, StringConstraints(min_length=4, max_length=64)] = Field(
        description="the preserved original that places the unit there"
    )
    place_name: Short = ""
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    start: date | None = None
    end: date | None = None
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class PositionOut(BaseModel):
    id: int
    place_name: str
    latitude: float | None
    longitude: float | None
    start: str | None
    end: str | None
    source_sha256: str
    note: str


class ActorOut(BaseModel):
    id: int
    kind: str
    name: str
    party: str
    parent_id: int | None
    rank: str
    service_start: str | None
    service_end: str | None
    notes: str
    aliases: list[AliasOut]
    positions: list[PositionOut] = Field(description="a unit's known positions")


class ParentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parent_id: Id | None = None


class BasisModel(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal[v.BASIS_KINDS]  # type: ignore[valid-type]
    sha256: Annotated[str, StringConstraints(min_length=4, max_length=64)] | None = Field(
        None, description="the evidence: a preserved asset's SHA-256 or prefix"
    )
    start: Seconds | None = None
    end: Seconds | None = None
    region: list[Fraction] | None = Field(
        None, min_length=4, max_length=4, description="x, y, width, height as frame fractions"
    )
    position_id: Id | None = Field(
        None, description="for geolocation: the unit's known position the footage matches"
    )
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class AttributionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    actor_id: Id
    role: Literal[v.ROLES]  # type: ignore[valid-type]
    confidence: Literal[v.CONFIDENCE]  # type: ignore[valid-type]
    bases: list[BasisModel] = Field(default_factory=list, max_length=50)
    note: Annotated[str, StringConstraints(max_length=5000)] = ""


class AttributionOut(BaseModel):
    id: int
    incident_id: int
    actor_id: int
    actor: str
    actor_kind: str
    party: str
    role: str
    confidence: str
    status: str
    note: str
    created_by: str
    created_at: str | None
    reviewer: str | None
    reviewed_at: str | None
    bases: list[BasisModel]


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal[v.REVIEW_DECISIONS]  # type: ignore[valid-type]
    note: Annotated[str, StringConstraints(max_length=5000)] = ""


class HistoryEntry(BaseModel):
    time: str | None
    user: str
    kind: str
    details: dict


class EventIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal[v.EVENT_KINDS]  # type: ignore[valid-type]
    day: date
    authority: Name
    source_sha256: Annotated[str, StringConstraints(min_length=4, max_length=64)] = Field(
        description="the preserved source document (upload it first)"
    )
    incident_id: Id | None = None
    actor_id: Id | None = None
    note: Annotated[str, StringConstraints(max_length=5000)] = ""


class EventOut(BaseModel):
    id: int
    kind: str
    day: str
    authority: str
    incident_id: int | None
    actor_id: int | None
    actor: str | None
    source_sha256: str
    note: str
    created_by: str
    created_at: str | None


class ActorPage(BaseModel):
    actor: ActorOut
    lineage: list[ActorOut]
    attributions: list[AttributionOut]
    events: list[EventOut]
    history: list[HistoryEntry] = Field(
        description="every change to the actor (created, parent, alias_added, alias_removed)"
    )


class StalledOut(BaseModel):
    incident_id: int
    title: str
    announced: date
    days: int


class SharedUnitOut(BaseModel):
    actor_id: int
    name: str
    party: str
    incidents: list[int]


class ReactionOut(BaseModel):
    incident_id: int
    title: str
    first_posted: str
    first_reaction: date
    reaction: str
    days: int


class CaseOut(BaseModel):
    as_of: date
    after_days: int
    stalled: list[StalledOut]
    shared_units: list[SharedUnitOut]
    reactions: list[ReactionOut]
    median_reaction_days: float | None
    incidents: int
    without_reaction: int
