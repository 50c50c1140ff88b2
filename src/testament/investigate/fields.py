"""What a person may write into an incident, validated the same way for forms and the API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from testament.investigate import vocabulary as v

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20_000)]
Short = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
Status = Literal[v.STATUSES]  # type: ignore[valid-type]
VictimStatus = Literal[v.VICTIM_STATUS]  # type: ignore[valid-type]
AgeGroup = Literal[v.AGE_GROUPS]  # type: ignore[valid-type]
Sex = Literal[v.SEXES]  # type: ignore[valid-type]
Precision = Literal[v.LOCATION_PRECISION]  # type: ignore[valid-type]
Method = Literal[v.LOCATION_METHOD]  # type: ignore[valid-type]


class VictimFields(BaseModel):
    model_config = ConfigDict(extra="forbid")
    count: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    status: VictimStatus = "unknown"
    age_group: AgeGroup = "unknown"
    sex: Sex = "unknown"


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class IncidentFields(BaseModel):
    """Every field of an incident that a person edits; times without a zone are UTC."""

    model_config = ConfigDict(extra="forbid")
    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    summary: Text = ""
    violations: list[str] = Field(default_factory=list, description="violation type codes")
    event_time: datetime | None = Field(None, description="best estimate")
    event_earliest: datetime | None = None
    event_latest: datetime | None = None
    location_name: Short = ""
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    location_precision: Precision | None = None
    location_method: Method | None = None
    victims: list[VictimFields] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    assignee: str | None = Field(None, description="username")

    @field_validator("event_time", "event_earliest", "event_latest")
    @classmethod
    def _zone(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    @field_validator("tags")
    @classmethod
    def _tags(cls, tags: list[str]) -> list[str]:
        cleaned = []
        for tag in tags:
            tag = " ".join(tag.strip().lower().split())[:64]
            if tag and tag not in cleaned:
                cleaned.append(tag)
        return cleaned

    @model_validator(mode="after")
    def _consistent(self) -> IncidentFields:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude, or neither")
        low, best, high = self.event_earliest, self.event_time, self.event_latest
        if low and high and low > high:
            raise ValueError("the earliest possible time is after the latest")
        if best and ((low and best < low) or (high and best > high)):
            raise ValueError("the best estimate of the time lies outside its bounds")
        if self.assignee == "":
            self.assignee = None
        return self
