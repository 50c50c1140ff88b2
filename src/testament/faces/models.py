"""Face records: each face found on a keyframe or image, the cluster it joined, and the
attribution bases that cite a cluster."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from testament.catalog.models import Base, utcnow


class FaceCluster(Base):
    """Faces whose descriptors lie close together: a lead that one person appears in each."""

    __tablename__ = "face_clusters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Face(Base):
    """One face on one keyframe (or image) of an asset, as the `faces` analysis found it."""

    __tablename__ = "faces"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), index=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    time: Mapped[float | None] = mapped_column(Float)  # seconds; None for an image
    box: Mapped[list[float]] = mapped_column(JSON)  # x, y, width, height as frame fractions
    score: Mapped[float] = mapped_column(Float)  # the detector's confidence
    # 128 float32 values: dlib's face descriptor, compared by Euclidean distance.
    descriptor: Mapped[bytes] = mapped_column(LargeBinary)
    # The crop (a Derivative of kind "face"), shown blurred until revealed.
    crop_id: Mapped[int | None] = mapped_column(ForeignKey("derivatives.id"))
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("face_clusters.id"), index=True)
    distance: Mapped[float | None] = mapped_column(Float)  # to the nearest face it joined
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FaceClusterBasis(Base):
    """An attribution basis made from a cluster: which cluster, which basis."""

    __tablename__ = "face_cluster_bases"

    basis_id: Mapped[int] = mapped_column(
        ForeignKey("attribution_bases.id", ondelete="CASCADE"), primary_key=True
    )
    cluster_id: Mapped[int] = mapped_column(ForeignKey("face_clusters.id"), index=True)
    face_id: Mapped[int] = mapped_column(ForeignKey("faces.id"))  # the sighting it points at


FACE_KIND = "face"  # Derivative.kind of a face crop
SETTING_KEY = "faces"  # WorkbenchSetting: "on" when an admin has turned faces on
