"""Finding words in what analysers read and posts say, with the database's full-text engine.

A query's words are matched as prefixes and all must be found; a word joined by hyphens
or other punctuation ("5-ci", "t.me/name") is a phrase of its parts, so "5-ci" finds the
ordinal and not every text with a 5 and a "ci" apart. SQLite matches through FTS5;
PostgreSQL matches each text with its own language's configuration, so "Москвы" finds
"Москва" in Russian text (see `enrich.text_index`).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from testament.catalog.models import Asset
from testament.enrich.models import Analysis, AnalysisText
from testament.enrich.text_index import server_configs

WORD = re.compile(r"[^\W_]+")
MAX_TERMS = 12
SNIPPET = 40  # characters either side of the match
LIMIT = 200


def phrases(words: str) -> list[list[str]]:
    """The query as phrases (one per space-separated token) of casefolded word parts."""
    found = [WORD.findall(token.casefold()) for token in words.split()]
    return [parts for parts in found if parts][:MAX_TERMS]


def _sqlite_ids(session: Session, wanted: list[list[str]]) -> list[int]:
    query = " ".join('"' + " ".join(parts) + '"*' for parts in wanted)
    found = session.execute(
        text(
            "SELECT rowid FROM analysis_texts_fts WHERE analysis_texts_fts MATCH :q "
            "ORDER BY rowid DESC LIMIT :n"
        ),
        {"q": query, "n": LIMIT},
    )
    return list(found.scalars())


def _postgresql_ids(session: Session, wanted: list[list[str]]) -> list[int]:
    query = " & ".join(
        "(" + " <-> ".join([*parts[:-1], parts[-1] + ":*"]) + ")" for parts in wanted
    )
    # One branch per configuration, each served by its partial index (migration 0013).
    branches = " OR ".join(
        f"(config = '{name}' AND to_tsvector('{name}', body) @@ to_tsquery('{name}', :q))"
        for name in sorted(server_configs(session))
    )
    found = session.execute(
        text(f"SELECT id FROM analysis_texts WHERE {branches} ORDER BY id DESC LIMIT :n"),
        {"q": query, "n": LIMIT},
    )
    return list(found.scalars())


def _snippet(body: str, wanted: list[list[str]]) -> str:
    folded = body.casefold()
    at = min((i for i in (folded.find(p[0]) for p in wanted) if i >= 0), default=0)
    return body[max(0, at - SNIPPET) : at + SNIPPET * 2].replace("\n", " / ")


def search_analyses(session: Session, words: str) -> list[dict[str, Any]]:
    """Texts holding every word (newest first), each with its asset, source and a snippet."""
    wanted = phrases(words)
    if not wanted:
        return []
    if session.get_bind().dialect.name == "postgresql":
        ids = _postgresql_ids(session, wanted)
    else:
        ids = _sqlite_ids(session, wanted)
    query = (
        select(AnalysisText, Asset.sha256, Analysis.version)
        .join(Asset, Asset.id == AnalysisText.asset_id)
        .outerjoin(Analysis, Analysis.id == AnalysisText.analysis_id)
        .where(AnalysisText.id.in_(ids))
        .order_by(AnalysisText.id.desc())
    )
    return [
        {
            "sha256": sha256,
            "source": row.source,
            "analysis_id": row.analysis_id,
            "capture_id": row.capture_id,
            "version": version,
            "language": row.language,
            "snippet": _snippet(row.body, wanted),
        }
        for row, sha256, version in session.execute(query)
    ]
