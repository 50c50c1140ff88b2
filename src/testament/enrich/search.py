"""Finding words in what analysers read: casefolded, so any script and any case match."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset
from testament.enrich.models import Analysis

SNIPPET = 40  # characters either side of the match
LIMIT = 200


def _like(words: str) -> str:
    escaped = words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search_analyses(session: Session, words: str) -> list[dict[str, Any]]:
    """The analyses whose text holds the words (newest first), with a snippet of each."""
    wanted = " ".join(words.split()).casefold()
    if not wanted:
        return []
    query = (
        select(Analysis, Asset.sha256)
        .join(Asset, Asset.id == Analysis.asset_id)
        .where(Analysis.status == "ok", Analysis.search_text.like(_like(wanted), escape="\\"))
        .order_by(Analysis.id.desc())
        .limit(LIMIT)
    )
    hits = []
    for row, sha256 in session.execute(query):
        text = row.search_text or ""
        at = text.find(wanted)
        snippet = text[max(0, at - SNIPPET) : at + len(wanted) + SNIPPET].replace("\n", " / ")
        hits.append(
            {"sha256": sha256, "analyser": row.analyser, "version": row.version, "snippet": snippet}
        )
    return hits
