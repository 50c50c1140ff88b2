"""The faces API's answers, typed for the OpenAPI document."""

from __future__ import annotations

from pydantic import BaseModel, Field


class FaceMember(BaseModel):
    face_id: int
    sha256: str
    time: float | None = Field(description="seconds from the start; none for an image")
    box: list[float] = Field(description="x, y, width, height as fractions of the frame")
    score: float = Field(description="the detector's confidence")
    distance: float | None = Field(description="to the nearest face it joined; none if first")
    crop_id: int | None


class FaceClusterOut(BaseModel):
    id: int
    created_at: str | None
    assets: list[str] = Field(description="SHA-256 of each asset with a face in the cluster")
    members: list[FaceMember]
    bases: list[int] = Field(description="attribution bases citing the cluster")


class FaceClusters(BaseModel):
    lead: str = Field(description="what a cluster is: a lead, never an identification")
    clusters: list[FaceClusterOut]


class FacesSetting(BaseModel):
    enabled: bool = Field(description="whether faces are analysed and shown in this store")


class CiteIn(BaseModel):
    attribution_id: int = Field(ge=1, le=2**31 - 1)
    note: str = Field("", max_length=2000)


class CitedBasis(BaseModel):
    kind: str
    sha256: str | None
    start: float | None
    end: float | None
    region: list[float] | None
    note: str
