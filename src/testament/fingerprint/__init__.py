"""Footage matching: PDQ frame fingerprints, a hash index, and offset-aligned matching.

See docs/matching.md for the method and its measured behaviour.

Each name is loaded from its module on first use, so that a caller that needs only the
model (an error type, say) does not load PyAV and FAISS with the rest.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from testament.fingerprint.extract import fingerprint_file
    from testament.fingerprint.index import HashIndex, Hits
    from testament.fingerprint.matcher import match
    from testament.fingerprint.model import Fingerprint, FingerprintError, FootageMatch, Segment
    from testament.fingerprint.query import Query, analyze_file, analyze_file_for_ingest

_MODULE_OF = {
    "Fingerprint": "model",
    "FingerprintError": "model",
    "FootageMatch": "model",
    "HashIndex": "index",
    "Hits": "index",
    "Query": "query",
    "Segment": "model",
    "analyze_file": "query",
    "analyze_file_for_ingest": "query",
    "fingerprint_file": "extract",
    "match": "matcher",
}

__all__ = [
    "Fingerprint",
    "FingerprintError",
    "FootageMatch",
    "HashIndex",
    "Hits",
    "Query",
    "Segment",
    "analyze_file",
    "analyze_file_for_ingest",
    "fingerprint_file",
    "match",
]


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value
