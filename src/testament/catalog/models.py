"""The catalog's records: what was preserved, where it was seen, and what was done to it.

Relations follow DESIGN.md: an asset (one preserved original) has many captures
(sightings); a capture whose media was not exported has no asset. Custody events form
the signed, hash-chained log; their fields are stored as the exact text that was signed
so that no database round trip can change what `verify` re-hashes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the catalog; use UTC-aware datetimes")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Asset(Base):
    """One preserved original file, identified by the SHA-256 of its bytes."""

    __tablename__ = "assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    md5: Mapped[str] = mapped_column(String(32))
    sha512: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(16), default="other")
    mime_type: Mapped[str | None] = mapped_column(String(128))
    original_filename: Mapped[str | None] = mapped_column(Text)
    probe: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    parse_error: Mapped[str | None] = mapped_column(Text)
    probed_at: Mapped[datetime | None]
    stored_at: Mapped[datetime] = mapped_column(default=utcnow)
    stored_by: Mapped[str] = mapped_column(String(200))

    captures: Mapped[list[Capture]] = relationship(
        back_populates="asset", order_by="Capture.id", lazy="selectin"
    )
    derivatives: Mapped[list[Derivative]] = relationship(back_populates="asset")


class Capture(Base):
    """One sighting of an asset somewhere: a post, a file on disk, a row in a list."""

    __tablename__ = "captures"
    __table_args__ = (
        Index("ix_captures_channel", "channel"),
        Index("ix_captures_posted_at", "posted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    # Identity of the sighting, so that repeating an ingest adds nothing.
    key: Mapped[str] = mapped_column(String(64), unique=True)
    method: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str | None] = mapped_column(String(64))
    url: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str | None] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(128))
    post_id: Mapped[str | None] = mapped_column(String(128))
    post_text: Mapped[str | None] = mapped_column(Text)
    posted_at: Mapped[datetime | None]
    forwarded_from: Mapped[str | None] = mapped_column(Text)
    views: Mapped[int | None] = mapped_column(BigInteger)
    reply_to: Mapped[str | None] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(Text)
    source_path: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str | None] = mapped_column(Text)
    media_missing: Mapped[bool] = mapped_column(Boolean, default=False)
    missing_reason: Mapped[str | None] = mapped_column(Text)
    tool: Mapped[str | None] = mapped_column(String(128))
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    collected_at: Mapped[datetime] = mapped_column(default=utcnow)
    collected_by: Mapped[str] = mapped_column(String(200))

    asset: Mapped[Asset | None] = relationship(back_populates="captures")


class Derivative(Base):
    """A file made from an asset (thumbnail, keyframe, redacted copy, transcript)."""

    __tablename__ = "derivatives"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    sha256: Mapped[str] = mapped_column(String(64))
    media_type: Mapped[str | None] = mapped_column(String(128))
    tool: Mapped[str] = mapped_column(String(128))
    tool_version: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    asset: Mapped[Asset] = relationship(back_populates="derivatives")


class CustodyEvent(Base):
    """One entry of the append-only, hash-chained, signed custody log."""

    __tablename__ = "custody_events"
    __table_args__ = (Index("ix_custody_subject", "subject"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    signature: Mapped[str] = mapped_column(String(128))
    key_id: Mapped[str] = mapped_column(String(32))


class CustodyHead(Base):
    """The newest custody event, signed, kept in the same transaction as each append.

    A second copy of the head (beside the `custody.head` file) so that deleting or rolling
    back either one is caught by the other.
    """

    __tablename__ = "custody_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(128))


class FingerprintRecord(Base):
    """An asset's frame hashes (times, PDQ hashes, quality) packed in one binary column.

    The catalog is the source of truth; the on-disk hash index is rebuilt from these rows.
    Rows are written under the store's write lock, so their ids follow commit order and
    the index can catch up by id.
    """

    __tablename__ = "fingerprints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    duration: Mapped[float | None]
    frame_count: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    tool: Mapped[str] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FootageLink(Base):
    """Two assets that show the same footage, and how: `relation` is A's relation to B.

    `offset` is B's time minus A's time; for a still (A) from a video (B), `asset_time`
    is the second of B it was taken from.
    """

    __tablename__ = "footage_links"
    __table_args__ = (UniqueConstraint("asset_a_id", "asset_b_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_a_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    asset_b_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    score: Mapped[float]
    coverage_a: Mapped[float]
    coverage_b: Mapped[float]
    offset: Mapped[float | None]
    asset_time: Mapped[float | None]
    segments: Mapped[list[dict[str, float]] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
