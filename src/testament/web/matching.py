"""The workbench's one door to footage matching, so the pages do not depend on how it works."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from testament.store import Store


class MatchingUnavailable(Exception):
    """This installation cannot match footage; the message says why."""


def find_matches(store: Store, path: Path) -> dict[str, Any]:
    """Which footage in the locker `path` shows: {"query": ..., "matches": [...]}, best first.

    Each match names an asset (sha256), the relation, a score and, for a still, the
    second of the asset it was taken from (`asset_time`). Files that cannot be decoded
    raise FingerprintError with a one-line message.
    """
    try:
        from testament.footage.query import match_file
    except ImportError as exc:
        raise MatchingUnavailable(f"footage matching is not installed ({exc})") from exc
    try:
        return match_file(store, path)
    except NotImplementedError as exc:
        raise MatchingUnavailable(str(exc) or "footage matching is not available yet") from exc
