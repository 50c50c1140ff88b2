"""Plain-dict views of catalog records, for JSON output, the API and evidence packages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset, Capture


class AmbiguousOrMissing(Exception):
    """No record, or more than one, matches what was asked for."""


class NoMatch(AmbiguousOrMissing):
    """Nothing matches what was asked for."""


class Ambiguous(AmbiguousOrMissing):
    """More than one record matches what was asked for."""


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def capture_dict(capture: Capture) -> dict[str, Any]:
    return {
        "id": capture.id,
        "sha256": capture.asset.sha256 if capture.asset else None,
        "method": capture.method,
        "platform": capture.platform,
        "url": capture.url,
        "channel": capture.channel,
        "channel_id": capture.channel_id,
        "post_id": capture.post_id,
        "post_text": capture.post_text,
        "posted_at": iso(capture.posted_at),
        "forwarded_from": capture.forwarded_from,
        "views": capture.views,
        "reply_to": capture.reply_to,
        "note": capture.note,
        "source_path": capture.source_path,
        "filename": capture.filename,
        "media_missing": capture.media_missing,
        "missing_reason": capture.missing_reason,
        "tool": capture.tool,
        "collected_at": iso(capture.collected_at),
        "collected_by": capture.collected_by,
        "raw": capture.raw,
    }


def asset_dict(asset: Asset, *, with_captures: bool = False) -> dict[str, Any]:
    record: dict[str, Any] = {
        "sha256": asset.sha256,
        "md5": asset.md5,
        "sha512": asset.sha512,
        "size": asset.size,
        "media_type": asset.media_type,
        "mime_type": asset.mime_type,
        "original_filename": asset.original_filename,
        "probe": asset.probe,
        "parse_error": asset.parse_error,
        "probed_at": iso(asset.probed_at),
        "stored_at": iso(asset.stored_at),
        "stored_by": asset.stored_by,
        "capture_count": len(asset.captures),
    }
    if with_captures:
        record["captures"] = [capture_dict(capture) for capture in asset.captures]
    return record


def find_asset(session: Session, prefix: str) -> Asset:
    """The one asset whose SHA-256 starts with `prefix` (at least 4 hex digits)."""
    prefix = prefix.strip().lower()
    if len(prefix) < 4 or any(c not in "0123456789abcdef" for c in prefix):
        raise AmbiguousOrMissing(f"{prefix!r} is not a sha256 prefix of at least 4 hex digits")
    matches = (
        session.execute(select(Asset).where(Asset.sha256.startswith(prefix)).limit(2))
        .scalars()
        .all()
    )
    if not matches:
        raise NoMatch(f"no asset with sha256 starting {prefix}")
    if len(matches) > 1:
        raise Ambiguous(f"more than one asset starts with {prefix}; give more digits")
    return matches[0]
