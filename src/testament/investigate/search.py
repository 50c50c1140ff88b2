"""Full-text search over post texts, filenames, comments and incident fields.

One `search_documents` table holds the text; SQLite searches it with FTS5 and PostgreSQL
with `to_tsvector('simple', ...)` (no stemming: posts come in many languages). Captures
and assets are written by the ingest, so they are indexed on the way in to a search;
incidents and comments are indexed when they change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from testament.actors.models import Attribution
from testament.catalog.models import Asset, Capture
from testament.investigate.models import Comment, Incident, SearchDocument

WORD_RE = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 12


@dataclass(frozen=True)
class Hit:
    kind: str  # capture, asset, incident, comment
    ref: int
    title: str
    snippet: str


def _put(session: Session, kind: str, ref: int, title: str, body: str) -> None:
    found = session.execute(
        select(SearchDocument).where(SearchDocument.kind == kind, SearchDocument.ref == ref)
    ).scalar_one_or_none()
    if found is None:
        session.add(SearchDocument(kind=kind, ref=ref, title=title, body=body))
    elif (found.title, found.body) != (title, body):
        found.title, found.body = title, body


def _attributions(session: Session, incident: Incident) -> list[Attribution]:
    query = select(Attribution).where(Attribution.incident_id == incident.id)
    return list(session.execute(query.order_by(Attribution.id)).scalars().unique())


def index_incident(session: Session, incident: Incident) -> None:
    """The incident's text and the actors it is attributed to, found by their names."""
    parts = [
        incident.summary,
        incident.location_name,
        " ".join(incident.tags),
        " ".join(t.label for t in incident.violations),
        " ".join(f"{a.actor.name} {a.actor.party}" for a in _attributions(session, incident)),
    ]
    _put(session, "incident", incident.id, incident.title, "\n".join(p for p in parts if p))


def index_comment(session: Session, entry: Comment) -> None:
    _put(session, "comment", entry.id, f"comment on incident {entry.incident_id}", entry.body)


def catch_up(session: Session) -> None:
    """Index captures and assets the ingest added since the last search (both append-only)."""
    for kind, model in (("capture", Capture), ("asset", Asset)):
        last = session.execute(
            select(func.max(SearchDocument.ref)).where(SearchDocument.kind == kind)
        ).scalar_one()
        rows = session.execute(
            select(model).where(model.id > (last or 0)).order_by(model.id)
        ).scalars()
        for row in rows:
            if kind == "capture":
                title = " ".join(x for x in (row.platform, row.channel) if x) or row.method
                body = "\n".join(x for x in (row.post_text, row.filename, row.url, row.note) if x)
            else:
                title, body = row.original_filename or row.sha256, row.parse_error or ""
            session.add(SearchDocument(kind=kind, ref=row.id, title=title, body=body))
    session.flush()


def terms(query: str) -> list[str]:
    """The words of a query; punctuation and operators are not syntax, only separators."""
    return WORD_RE.findall(query.lower())[:MAX_TERMS]


def _snippet(body: str, words: list[str], width: int = 160) -> str:
    lowered = body.lower()
    at = min((i for i in (lowered.find(w) for w in words) if i >= 0), default=0)
    start = max(0, at - width // 3)
    return (
        ("…" if start else "")
        + body[start : start + width]
        + ("…" if len(body) > start + width else "")
    )


def search(session: Session, query: str, limit: int = 50) -> list[Hit]:
    """Documents containing every word of `query` (prefix matches), best first."""
    words = terms(query)
    if not words:
        return []
    if session.get_bind().dialect.name == "postgresql":
        tsquery = " & ".join(f"{w}:*" for w in words)
        rows = session.execute(
            text(
                "SELECT id FROM search_documents, to_tsquery('simple', :q) query "
                "WHERE to_tsvector('simple', title || ' ' || body) @@ query "
                "ORDER BY ts_rank(to_tsvector('simple', title || ' ' || body), query) DESC "
                "LIMIT :n"
            ),
            {"q": tsquery, "n": limit},
        ).scalars()
    else:
        fts = " ".join('"' + w.replace('"', "") + '"*' for w in words)
        rows = session.execute(
            text("SELECT rowid FROM search_fts WHERE search_fts MATCH :q ORDER BY rank LIMIT :n"),
            {"q": fts, "n": limit},
        ).scalars()
    ids = list(rows)
    documents = {
        d.id: d
        for d in session.execute(select(SearchDocument).where(SearchDocument.id.in_(ids))).scalars()
    }
    return [
        Hit(d.kind, d.ref, d.title, _snippet(d.body or d.title, words))
        for d in (documents[i] for i in ids if i in documents)
    ]
