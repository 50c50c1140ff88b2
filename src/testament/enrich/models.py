"""Analysis results: records derived from an asset, each with its signed `analysed` event.

A row names the tool, model and version that made it. Running a newer version adds a row
and keeps the old one, so what a report relied on stays in the catalog; a failure is a
row too (`status` "failed" and its `error`), shown beside the results.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from testament.catalog.models import Base, utcnow


class Analysis(Base):
    """One analyser's result (or failure) on one asset, for one version of its tool."""

    __tablename__ = "analyses"
    __table_args__ = (
        UniqueConstraint("asset_id", "analyser", "tool", "version"),
        Index("ix_analyses_analyser", "analyser"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    analyser: Mapped[str] = mapped_column(String(16))
    tool: Mapped[str] = mapped_column(String(128))
    model: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(8))  # "ok" or "failed"
    error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The result's words, casefolded, for `testament search` in any script.
    search_text: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnalysisText(Base):
    """Words to search, in one language: an analysis's text (on-screen text, transcript)
    or a capture's post text, with the language identified for it.

    SQLite searches it with FTS5 and PostgreSQL with a GIN index per text-search
    configuration (migration 0013); the rows of an asset are rebuilt whenever one of its
    analyses is recorded (`enrich.text_index`).
    """

    __tablename__ = "analysis_texts"
    __table_args__ = (Index("ix_analysis_texts_language", "language"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    analysis_id: Mapped[int | None] = mapped_column(ForeignKey("analyses.id"))
    capture_id: Mapped[int | None] = mapped_column(ForeignKey("captures.id"))
    source: Mapped[str] = mapped_column(String(16))  # the analyser's name, or "post"
    language: Mapped[str | None] = mapped_column(String(8))  # ISO 639-1, if identified
    # PostgreSQL's text-search configuration for the language ('simple' where it has none).
    config: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
