"""Actors, attributions and accountability events from a table, each row saved whole or not at all.

Reads what `export table actors|attributions|accountability --format csv` writes. Ids,
statuses, reviewers and bookkeeping columns are ignored: an imported attribution is
"proposed" (a spreadsheet is not a review), and references (parent_id, incident_id,
actor_id, an asset's SHA-256) must name records already in this store.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from testament.accounts.models import User
from testament.actors import accountability, actors, attributions
from testament.actors.actors import ActorError, AliasIn
from testament.actors.attributions import AttributionIn, BasisIn
from testament.report.incident_import import ImportFileError, ImportResult, _text
from testament.store import Store

REQUIRED = {
    "actors": {"kind", "name"},
    "attributions": {"incident_id", "actor_id", "role", "confidence"},
    "accountability": {"kind", "day", "authority", "source_sha256"},
}


def _number(row: dict[str, str], name: str) -> int | None:
    value = row.get(name, "").strip()
    if not value:
        return None
    if not value.isdigit():
        raise ActorError(f"{name}: {value!r} is not a record number")
    return int(value)


def _day(row: dict[str, str], name: str) -> date | None:
    value = row.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise ActorError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from exc


def _json_list(row: dict[str, str], name: str) -> list[Any]:
    value = row.get(name, "").strip()
    if not value:
        return []
    try:
        found = json.loads(value)
    except ValueError as exc:
        raise ActorError(f"{name}: not JSON ({exc.args[0]})") from exc
    if not isinstance(found, list) or not all(isinstance(x, dict) for x in found):
        raise ActorError(f"{name}: a JSON list of objects")
    return found


def _save(session, user: User, kind: str, row: dict[str, str]) -> int:
    if kind == "actors":
        made = actors.create(
            session,
            user.username,
            kind=row["kind"],
            name=row["name"],
            party=row.get("party", ""),
            parent_id=_number(row, "parent_id"),
            rank=row.get("rank", ""),
            service_start=_day(row, "service_start"),
            service_end=_day(row, "service_end"),
            notes=row.get("notes", ""),
            aliases=[
                AliasIn(str(a.get("name", "")), str(a.get("language", "")))
                for a in _json_list(row, "aliases")
            ],
        )
        return made.id
    if kind == "attributions":
        try:
            bases = [BasisIn(**b) for b in _json_list(row, "bases")]
        except TypeError as exc:
            raise ActorError(f"bases: {exc}") from exc
        given = AttributionIn(
            _number(row, "incident_id") or 0,
            _number(row, "actor_id") or 0,
            row["role"],
            row["confidence"],
            bases,
            row.get("note", ""),
        )
        return attributions.propose(session, user, given).id
    day = _day(row, "day")
    assert day is not None
    given_event = accountability.EventIn(
        row["kind"],
        day,
        row["authority"],
        row["source_sha256"],
        _number(row, "incident_id"),
        _number(row, "actor_id"),
        row.get("note", ""),
    )
    return accountability.record(session, user, given_event).id


def import_table(store: Store, kind: str, path: Path, username: str) -> ImportResult:
    """One record per valid row; each bad row named by its line, with nothing of it saved."""
    result = ImportResult()
    with store.read() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None or not user.active:
            raise ImportFileError(f"no active user {username!r} to record as the author")
        user_id = user.id
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read ({exc.strerror})") from exc
    with handle:
        try:
            reader = csv.DictReader(handle)
            missing = REQUIRED[kind] - set(reader.fieldnames or [])
            if missing:
                raise ImportFileError(
                    f"{path}: no {', '.join(sorted(missing))} column; is this a {kind} table?"
                )
            line = 2
            for row in reader:
                where = f"{path.name}:{line}"
                line = reader.line_num + 1
                if None in row:
                    result.errors.append(f"{where}: more cells than columns")
                    continue
                cleaned = {k: _text((v or "").strip()) for k, v in row.items()}
                try:
                    with store.write() as session:
                        acting = session.get(User, user_id)
                        assert acting is not None
                        result.created.append(_save(session, acting, kind, cleaned))
                except (ActorError, ValidationError) as exc:
                    result.errors.append(f"{where}: {exc}")
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
        except csv.Error as exc:
            raise ImportFileError(f"{path}:{reader.line_num}: {exc}") from exc
    return result
