"""The analyses an incident relies on, in its report and in its evidence package.

A package carries every analysis record of its assets (older versions and failures too,
each naming its tool, model and version) beside the signed `analysed` events, and
`verify-package` holds each record to its event: the result and the searchable words by
the SHA-256 of their canonical JSON, everything else field by field. A report lists, per
asset, what the newest result of each analyser says, by kind, so that a new kind of
analysis appears without changes here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from testament.catalog.models import Asset
from testament.catalog.records import iso
from testament.enrich.models import Analysis
from testament.enrich.records import analyses_of
from testament.locker.custody import canonical_json
from testament.report.cross_check import SignedEvents, _agree

ANALYSIS_RECORDS = "data/records/analyses"
# Record fields that the `analysed` event signs as they are.
SIGNED_FIELDS = ("analyser", "tool", "model", "version", "status", "error", "created_at")
# Signed digests and the record fields they cover.
SIGNED_DIGESTS = {"result_sha256": "result", "search_sha256": "search_text"}
KINDS = {
    "ocr": "On-screen text",
    "language": "Languages",
    "speech": "Transcript",
    "audio": "Same audio",
    "faces": "Faces",
}


def analysis_record(row: Analysis, sha256: str) -> dict[str, Any]:
    """The record as a package carries it: all that its `analysed` event attests."""
    return {
        "id": row.id,
        "sha256": sha256,
        "analyser": row.analyser,
        "tool": row.tool,
        "model": row.model,
        "version": row.version,
        "status": row.status,
        "error": row.error,
        "result": row.result,
        "search_text": row.search_text,
        "created_at": iso(row.created_at),
    }


def package_records(session: Session, asset: Asset) -> list[tuple[str, dict[str, Any]]]:
    """(package path, record) for every analysis of the asset."""
    return [
        (f"{ANALYSIS_RECORDS}/{asset.sha256}/{row.id}.json", analysis_record(row, asset.sha256))
        for row in analyses_of(session, asset.id)
    ]


def _digest(value: Any) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def _check_record(where: str, record: Any, signed: SignedEvents, problems: list[str]) -> None:
    if not isinstance(record, dict) or not isinstance(record.get("id"), int):
        problems.append(f"{where}: not an analysis record")
        return
    events = [
        e
        for e in signed.about(str(record.get("sha256")), "analysed")
        if e.details.get("analysis_id") == record["id"]
    ]
    if not events:
        problems.append(f"{where}: no signed 'analysed' event for analysis {record['id']}")
        return
    event = events[-1]  # a failure tried again is signed anew
    claimed = {name: record.get(name) for name in SIGNED_FIELDS}
    claimed |= {key: _digest(record.get(name)) for key, name in SIGNED_DIGESTS.items()}
    for key, value in claimed.items():
        if not _agree(key, value, event.details.get(key)):
            name = SIGNED_DIGESTS.get(key, key)
            problems.append(
                f"{where}: {name} differs from the signed 'analysed' event #{event.seq}"
            )


def check_package(
    root: Path, assets: dict[str, list[Any]], signed: SignedEvents, problems: list[str]
) -> int:
    """Each analysis record against its event, and each signed analysis of a packaged asset
    present; returns how many records were checked."""
    checked = 0
    for sha256 in sorted(assets):
        found: set[int] = set()
        for path in sorted((root / ANALYSIS_RECORDS / sha256).glob("*.json")):
            where = path.relative_to(root).as_posix()
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                problems.append(f"{where}: not valid JSON ({exc})")
                continue
            if isinstance(record, dict) and record.get("sha256") != sha256:
                problems.append(f"{where}: describes asset {record.get('sha256')}, not {sha256}")
            _check_record(where, record, signed, problems)
            if isinstance(record, dict) and isinstance(record.get("id"), int):
                found.add(record["id"])
            checked += 1
        for event in signed.about(sha256, "analysed"):
            analysis_id = event.details.get("analysis_id")
            if analysis_id not in found:
                problems.append(
                    f"{ANALYSIS_RECORDS}/{sha256}/{analysis_id}.json: missing; signed in "
                    f"'analysed' event #{event.seq}"
                )
                found.add(analysis_id)
    for path in sorted((root / ANALYSIS_RECORDS).glob("*")):
        if path.name not in assets:
            problems.append(f"{path.relative_to(root).as_posix()}: no asset record in the package")
    return checked


def _seconds(value: Any) -> str:
    return "?" if value is None else f"{value:.0f}"


def _details(row: Analysis) -> list[str]:
    """What the result says, for the kinds whose details a reader needs."""
    result = row.result or {}
    if row.analyser == "ocr":
        return [
            f"  {_seconds(r.get('start'))}–{_seconds(r.get('end'))} s: “{r['text']}”"
            + (f" (watermark @{r['channel']})" if r.get("channel") else "")
            for r in result.get("regions", [])
        ]
    if row.analyser == "language":
        return [
            f"  {item['source']}: {item['name']} ({item['confidence']:.2f})"
            for item in result.get("texts", [])
        ]
    if row.analyser == "speech":
        return [
            f"  {_seconds(s.get('start'))}–{_seconds(s.get('end'))} s: “{s['text']}”"
            for s in result.get("segments", [])
        ]
    return []


def report_lines(session: Session, asset: Asset, *, with_faces: bool) -> list[str]:
    """The newest result of each analyser on the asset: its maker, a summary line, and
    the details (text with times, languages, transcript); failures said as failures.

    Faces appear only `with_faces` (the reader's role allows them) and while the store
    has faces on; otherwise one line says that they were analysed and left out.
    """
    from testament.enrich.view import summary
    from testament.faces.setting import enabled

    newest: dict[str, Analysis] = {}
    for row in analyses_of(session, asset.id):
        if row.status == "ok" or row.analyser not in newest:
            newest[row.analyser] = row
    if not (with_faces and enabled(session)) and newest.pop("faces", None) is not None:
        note = [
            "Faces: analysed; not shown in this report (a face is a lead, never an identification)."
        ]
    else:
        note = []
    lines = []
    for name, row in newest.items():
        kind = KINDS.get(name, name)
        made = f"{row.tool} {row.version}" + (f", {row.model}" if row.model else "")
        view = {"status": row.status, "error": row.error, "analyser": name, "result": row.result}
        lines.append(f"{kind} ({made}; {iso(row.created_at)}): {summary(view)}")
        if row.status == "ok":
            lines.extend(_details(row))
    return lines + note
