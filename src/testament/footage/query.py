"""`match`: which footage in the locker does a file show? Works for files never ingested."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select

from testament.catalog.models import Asset
from testament.fingerprint import FootageMatch, analyze_file, match
from testament.footage.index_cache import LiveIndex
from testament.footage.linking import StoredFingerprints, StoredFrames
from testament.locker.digests import sha256_of
from testament.store import Store


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3) + 0.0  # no "-0.0" in reports


def _match_dict(found: FootageMatch, asset: Asset, identical: bool) -> dict[str, Any]:
    return {
        "sha256": asset.sha256,
        "filename": asset.original_filename,
        "relation": "identical" if identical else found.relation,
        "score": 1.0 if identical else round(found.score, 3),
        "query_coverage": round(found.query_coverage, 3),
        "asset_coverage": round(found.asset_coverage, 3),
        "offset": _rounded(found.offset),
        "asset_time": _rounded(found.asset_time),
        "asset_times": [[_rounded(start), _rounded(end)] for start, end in found.asset_times],
        "segments": [
            {key: _rounded(value) for key, value in vars(segment).items()}
            for segment in found.segments
        ],
    }


def match_file(store: Store, path: Path) -> dict[str, Any]:
    """Fingerprint `path` every useful way and return its matches, best first.

    Raises FingerprintError (one line) when the file cannot be decoded.
    """
    with path.open("rb") as handle:
        sha256 = sha256_of(handle)
    query = analyze_file(path)
    with store.read() as session, StoredFrames(store, session) as frames:
        index = LiveIndex(store.settings.index_dir).current(session)
        found = match(query, index, StoredFingerprints(session), frames)
        assets = {
            asset.id: asset
            for asset in session.execute(
                select(Asset).where(Asset.id.in_([m.asset_id for m in found]))
            ).scalars()
        }
    matches = [
        _match_dict(m, assets[m.asset_id], assets[m.asset_id].sha256 == sha256) for m in found
    ]
    matches.sort(key=lambda m: m["relation"] != "identical")
    return {
        "query": {"sha256": sha256, "kind": query.kind, "duration": _rounded(query.duration)},
        "matches": matches,
    }
