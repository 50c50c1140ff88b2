"""The words an asset carries, indexed by language: what `testament search` and the
library's language filter read.

Each analysis's text (on-screen text, transcript) and each capture's post text becomes
one row per language that the language analyser identified in it, so that PostgreSQL
stems each row with its language's text-search configuration (Russian, Turkish,
English, and Armenian where the server has it, PostgreSQL 16 and later) and keeps the
others ('simple': Azerbaijani, and text whose language is not known) as plain words.
SQLite's FTS5 (unicode61, diacritics removed) treats every script alike and stems none.
An asset's rows are rebuilt once per run of its analysers, after the last is recorded,
so a language identified after the text was read reaches the index then.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from testament.catalog.models import Asset
from testament.enrich.models import Analysis, AnalysisText
from testament.enrich.records import latest

# Languages (ISO 639-1) with a stemming configuration in PostgreSQL.
CONFIGS = {"ru": "russian", "tr": "turkish", "en": "english", "hy": "armenian"}
SIMPLE = "simple"
KEY = 100  # characters of a text that name it when its language is looked up


def server_configs(session: Session) -> set[str]:
    """The configurations of CONFIGS (and 'simple') that this database can use."""
    wanted = {SIMPLE, *CONFIGS.values()}
    if session.get_bind().dialect.name != "postgresql":
        return wanted
    found = session.execute(text("SELECT cfgname FROM pg_ts_config")).scalars()
    return wanted & set(found)


def _key(words: str) -> str:
    return words.casefold()[:KEY]


def _identified(session: Session, asset_id: int) -> tuple[dict[str, str], dict[str, str]]:
    """Languages the newest language analysis found: by the text's start and by where it
    was read ("capture 3 post text")."""
    row = latest(session, asset_id, "language")
    by_text: dict[str, str] = {}
    by_source: dict[str, str] = {}
    for item in (row.result or {}).get("texts", []) if row else []:
        by_text.setdefault(_key(item["text"]), item["language"])
        by_source.setdefault(item["source"], item["language"])
    return by_text, by_source


def _spoken(result: dict[str, Any] | None) -> str | None:
    """The language an analyser itself names for its whole text (speech's spoken language)."""
    language = (result or {}).get("language")
    return language if isinstance(language, str) and len(language) <= 8 else None


def _row(
    asset: Asset, language: str | None, lines: list[str], usable: set[str], **origin: Any
) -> AnalysisText:
    """One row; `origin` names its source and its analysis or capture."""
    config = CONFIGS.get(language or "", SIMPLE)
    return AnalysisText(
        asset_id=asset.id,
        language=language,
        config=config if config in usable else SIMPLE,
        body="\n".join(lines),
        **origin,
    )


def index_asset(session: Session, asset_id: int) -> None:
    """Rebuild the asset's rows from its successful analyses and its captures' post texts."""
    asset = session.get_one(Asset, asset_id)
    session.execute(delete(AnalysisText).where(AnalysisText.asset_id == asset.id))
    by_text, by_source = _identified(session, asset.id)
    usable = server_configs(session)
    analyses = session.execute(
        select(Analysis).where(
            Analysis.asset_id == asset.id,
            Analysis.status == "ok",
            Analysis.search_text.is_not(None),
        )
    ).scalars()
    for analysis in analyses:
        spoken = _spoken(analysis.result)
        groups: dict[str | None, list[str]] = {}
        for line in dict.fromkeys(analysis.search_text.splitlines()):
            if line.strip():
                groups.setdefault(by_text.get(_key(line)) or spoken, []).append(line)
        for language, lines in groups.items():
            origin = {"source": analysis.analyser, "analysis_id": analysis.id}
            session.add(_row(asset, language, lines, usable, **origin))
    for capture in asset.captures:
        if capture.post_text and capture.post_text.strip():
            language = by_source.get(f"capture {capture.id} post text")
            origin = {"source": "post", "capture_id": capture.id}
            session.add(_row(asset, language, [capture.post_text], usable, **origin))
