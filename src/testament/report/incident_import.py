"""Incidents from a spreadsheet: each row validated whole, and saved whole or not at all.

Reads what `export table incidents --format csv` writes, so a table can be edited in a
spreadsheet and brought back. Every imported incident starts as "new": a status such as
"verified" in a spreadsheet is not a review, and is ignored. The `id` column and the
bookkeeping columns (created_by, created_at, updated_at) are ignored too. Each entry of
the `attributions` column is proposed anew (its actor by `actor_id`, which must exist),
with the role, confidence and bases it names; its status is likewise not carried.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from testament.accounts.models import User
from testament.actors import attributions
from testament.actors.actors import ActorError
from testament.actors.attributions import AttributionIn, BasisIn
from testament.catalog.models import Asset
from testament.investigate import incidents as logic
from testament.investigate import taxonomy
from testament.investigate.fields import IncidentFields
from testament.report.tables import FORMULA_START
from testament.store import Store

LIST_FIELDS = ("violations", "tags")
JSON_FIELDS = ("victims",)
BASIS_KEYS = ("kind", "sha256", "start", "end", "region", "note")
TEXT_FIELDS = (
    "title",
    "summary",
    "event_time",
    "event_earliest",
    "event_latest",
    "location_name",
    "location_precision",
    "location_method",
    "assignee",
)
NUMBER_FIELDS = ("latitude", "longitude")
IGNORED = ("id", "status", "created_by", "created_at", "updated_at")


class ImportFileError(Exception):
    """The file cannot be read as a table of incidents at all."""


@dataclass
class ImportResult:
    created: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _text(value: str) -> str:
    """Undo the apostrophe that export puts before formula-like text."""
    return value[1:] if value[:1] == "'" and value[1:2] in FORMULA_START else value


def _attributions(value: str) -> list[dict[str, Any]]:
    """The `attributions` cell: a JSON list of objects naming actor_id, role and confidence."""
    if not value:
        return []
    try:
        entries = json.loads(value)
    except ValueError as exc:
        raise ValueError(f"attributions: not JSON ({exc.args[0]})") from exc
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError("attributions: a JSON list of objects")
    for number, entry in enumerate(entries, 1):
        missing = [k for k in ("actor_id", "role", "confidence") if k not in entry]
        if missing:
            raise ValueError(f"attributions {number}: no {', '.join(missing)}")
        if not isinstance(entry["actor_id"], int) or isinstance(entry["actor_id"], bool):
            raise ValueError(f"attributions {number}: actor_id is a number")
        bases = entry.get("bases", [])
        if not isinstance(bases, list) or not all(isinstance(b, dict) for b in bases):
            raise ValueError(f"attributions {number}: bases is a list of objects")
    return entries


def _attribution(incident_id: int, entry: dict[str, Any]) -> AttributionIn:
    bases = [BasisIn(**{k: b[k] for k in BASIS_KEYS if k in b}) for b in entry.get("bases", [])]
    return AttributionIn(
        incident_id,
        entry["actor_id"],
        str(entry["role"]),
        str(entry["confidence"]),
        bases,
        str(entry.get("note") or ""),
    )


def _row_fields(row: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    fields: dict[str, Any] = {}
    for name, raw in row.items():
        value = _text((raw or "").strip())
        if name == "perpetrators" and value:
            raise ValueError(
                "perpetrators: free-text perpetrators are retired; give attributions "
                "(actor_id, role, confidence) in an attributions column"
            )
        if name in IGNORED or name in ("assets", "attributions", "perpetrators") or not value:
            continue
        if name in LIST_FIELDS:
            fields[name] = [part.strip() for part in value.split(";") if part.strip()]
        elif name in JSON_FIELDS:
            try:
                fields[name] = json.loads(value)
            except ValueError as exc:
                raise ValueError(f"{name}: not JSON ({exc.args[0]})") from exc
        elif name in NUMBER_FIELDS or name in TEXT_FIELDS:
            fields[name] = value
        else:
            raise ValueError(f"unknown column {name!r}")
    assets = [s.strip().lower() for s in (row.get("assets") or "").split(";") if s.strip()]
    return fields, assets


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error["loc"])
        parts.append(f"{where}: {error['msg']}" if where else error["msg"])
    return "; ".join(parts)


def import_incidents(store: Store, path: Path, username: str) -> ImportResult:
    """Create one incident per valid row; name each bad row by its line in the file."""
    result = ImportResult()
    with store.write() as session:
        # A fresh store has no taxonomy until the workbench first runs; rows name its codes.
        taxonomy.ensure_defaults(session)
    with store.read() as session:
        user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
        if user is None or not user.active:
            raise ImportFileError(f"no active user {username!r} to record as the author")
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise ImportFileError(f"{path}: cannot read ({exc.strerror})") from exc
    with handle:
        try:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "title" not in reader.fieldnames:
                raise ImportFileError(f"{path}: no 'title' column; is this an incidents table?")
            line = 2
            for row in reader:
                _import_row(store, user.id, row, f"{path.name}:{line}", result)
                line = reader.line_num + 1
        except UnicodeDecodeError as exc:
            raise ImportFileError(f"{path}: not UTF-8 text ({exc.reason})") from exc
        except csv.Error as exc:
            raise ImportFileError(f"{path}:{reader.line_num}: {exc}") from exc
    return result


def _import_row(
    store: Store, user_id: int, row: dict[str, Any], where: str, result: ImportResult
) -> None:
    if None in row:
        result.errors.append(f"{where}: more cells than columns")
        return
    try:
        values, shas = _row_fields(row)
        attributed = _attributions(_text((row.get("attributions") or "").strip()))
        fields = IncidentFields(**values)
    except ValidationError as exc:
        result.errors.append(f"{where}: {_explain(exc)}")
        return
    except ValueError as exc:
        result.errors.append(f"{where}: {exc}")
        return
    try:
        with store.write() as session:
            user = session.get(User, user_id)
            assert user is not None
            assets = []
            for sha in shas:
                asset = session.execute(
                    select(Asset).where(Asset.sha256 == sha)
                ).scalar_one_or_none()
                if asset is None:
                    raise logic.IncidentError(f"assets: no asset {sha}")
                assets.append(asset)
            incident = logic.create(session, user, fields)
            for asset in assets:
                logic.link_asset(session, user, incident, asset)
            for number, entry in enumerate(attributed, 1):
                try:
                    attributions.propose(session, user, _attribution(incident.id, entry))
                except ActorError as exc:
                    raise ActorError(f"attributions {number}: {exc}") from exc
            created = incident.id
    except (logic.IncidentError, ActorError) as exc:
        result.errors.append(f"{where}: {exc}")
        return
    result.created.append(created)
