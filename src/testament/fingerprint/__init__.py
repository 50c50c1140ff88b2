"""Footage matching: PDQ frame fingerprints, a hash index, and offset-aligned matching.

See docs/matching.md for the method and its measured behaviour.
"""

from testament.fingerprint.extract import fingerprint_file
from testament.fingerprint.index import HashIndex, Hits
from testament.fingerprint.matcher import match
from testament.fingerprint.model import Fingerprint, FingerprintError, FootageMatch, Segment
from testament.fingerprint.query import Query, analyze_file, analyze_file_for_ingest

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
