"""What each signed custody event says about a catalog record.

Writers build the details of their `stored`, `probed`, `collected`, `derived` and
`fingerprinted` events with these functions, and `verify` rebuilds the same details from
the catalog and compares them with the signed ones, field by field. One function per
event keeps the two sides from drifting apart.

Large values (a post's raw platform metadata, probe metadata, packed frame hashes) are
attested by the SHA-256 of their canonical JSON or bytes, so events stay small.

Events written before every field was attested hold fewer keys. `LEGACY_OMITTED` names
the keys that those older writers left out when a value was empty, so their absence
still proves emptiness; any other absent key cannot be proven for that record.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

from testament.catalog.models import Asset, Capture, Derivative, FingerprintRecord
from testament.locker.custody import canonical_json

# Keys that older writers omitted when the value was None, per action.
LEGACY_OMITTED: dict[str, frozenset[str]] = {
    "collected": frozenset(
        {"platform", "url", "channel", "post_id", "source_path", "tool", "posted_at"}
        | {"media_missing"}
    ),
    "probed": frozenset({"parse_error"}),
    "fingerprinted": frozenset({"error"}),
}
# The keys of a `derived` event that are not the derivative's own parameters.
DERIVED_FIELDS = frozenset({"kind", "sha256", "tool", "tool_version", "media_type", "created_at"})
# Where an event's key and the catalog's column are named differently.
CATALOG_NAMES = {
    "filename": "original_filename",
    "probe_sha256": "probe",
    "raw_sha256": "raw",
    "media_missing": "missing_reason",
    "sha256": "asset",
    "frames": "frame_count",
    "data_sha256": "data",
}


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _json_digest(value: Any) -> str | None:
    if value is None:
        return None
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def stored_details(asset: Asset) -> dict[str, Any]:
    """The preserved bytes and when they were stored (`stored_by` is the event's actor)."""
    return {
        "size": asset.size,
        "md5": asset.md5,
        "sha512": asset.sha512,
        "filename": asset.original_filename,
        "stored_at": _time(asset.stored_at),
    }


def probed_details(asset: Asset, tool: str) -> dict[str, Any]:
    """What probing found: media type, parse error and a digest of the metadata."""
    return {
        "tool": tool,
        "media_type": asset.media_type,
        "mime_type": asset.mime_type,
        "parse_error": asset.parse_error,
        "probe_sha256": _json_digest(asset.probe),
        "probed_at": _time(asset.probed_at),
    }


def collected_details(capture: Capture, sha256: str | None) -> dict[str, Any]:
    """One sighting, every field (`collected_by` is the event's actor)."""
    return {
        "capture_id": capture.id,
        "sha256": sha256,
        "key": capture.key,
        "method": capture.method,
        "platform": capture.platform,
        "url": capture.url,
        "channel": capture.channel,
        "channel_id": capture.channel_id,
        "post_id": capture.post_id,
        "post_text": capture.post_text,
        "posted_at": _time(capture.posted_at),
        "forwarded_from": capture.forwarded_from,
        "views": capture.views,
        "reply_to": capture.reply_to,
        "note": capture.note,
        "source_path": capture.source_path,
        "filename": capture.filename,
        "media_missing": capture.missing_reason if capture.media_missing else None,
        "tool": capture.tool,
        "raw_sha256": _json_digest(capture.raw),
        "collected_at": _time(capture.collected_at),
    }


def derived_details(derivative: Derivative) -> dict[str, Any]:
    """A derivative's blob, maker and parameters (flat, as the first writers had them)."""
    return {
        "kind": derivative.kind,
        "sha256": derivative.sha256,
        "tool": derivative.tool,
        "tool_version": derivative.tool_version,
        "media_type": derivative.media_type,
        "created_at": _time(derivative.created_at),
    } | (derivative.params or {})


def fingerprinted_details(record: FingerprintRecord) -> dict[str, Any]:
    """The frame hashes kept for an asset, by their digest."""
    return {
        "tool": record.tool,
        "frames": record.frame_count,
        "error": record.error,
        "kind": record.kind,
        "duration": record.duration,
        "data_sha256": hashlib.sha256(record.data or b"").hexdigest(),
        "created_at": _time(record.created_at),
    }


def split_derived(details: dict[str, Any]) -> dict[str, Any]:
    """A `derived` event's details with its parameters gathered under `params`."""
    fields = {k: v for k, v in details.items() if k in DERIVED_FIELDS}
    return fields | {"params": {k: v for k, v in details.items() if k not in DERIVED_FIELDS}}


def _same(key: str, catalog: Any, signed: Any) -> bool:
    if key.endswith("_at") and isinstance(catalog, str) and isinstance(signed, str):
        try:
            return datetime.fromisoformat(catalog) == datetime.fromisoformat(signed)
        except ValueError:
            return False
    return catalog == signed


def differences(
    action: str, catalog: dict[str, Any], signed: dict[str, Any]
) -> tuple[list[str], bool]:
    """The catalog's names of the fields that differ from the signed details, and whether
    every field could be compared (not so for events from older writers)."""
    catalog = json.loads(canonical_json(catalog))  # the same JSON types as the event's
    omitted = LEGACY_OMITTED.get(action, frozenset())
    differing: list[str] = []
    complete = True
    for key, value in catalog.items():
        if key in signed:
            matches = _same(key, value, signed[key])
        elif key in omitted:
            matches = value is None
        else:
            complete = False
            continue
        if not matches:
            differing.append(CATALOG_NAMES.get(key, key))
    return differing, complete
