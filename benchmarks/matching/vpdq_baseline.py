"""Meta's vPDQ method as published in ThreatExchange, for comparison.

Hashing is the reference implementation (``pip install vpdq``: one PDQ hash per second).
Matching follows python-threatexchange's ``VideoVPDQSignal.compare_hash``: both hash lists
are de-duplicated and filtered to quality >= 50; a frame is matched when some frame of the
other list is within 31 bits; the pair matches when the larger of the two percentages of
frames matched (query in target, target in query) reaches 80%. vPDQ treats a video as an
unordered bag of frames, so it reports no offset; for a still, the time of the closest
matching frame is taken as its answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

try:
    import vpdq
except ImportError as exc:  # pragma: no cover - depends on the machine
    raise SystemExit(
        "the vPDQ baseline needs the vpdq package: apt-get install libavdevice-dev "
        "libavfilter-dev libavformat-dev libavcodec-dev libswresample-dev libswscale-dev "
        "libavutil-dev pkg-config cmake && pip install vpdq"
    ) from exc

DISTANCE = 31
QUALITY = 50
MATCH_PERCENT = 80.0
SECONDS_PER_HASH = 1.0


@dataclass(frozen=True)
class VpdqHash:
    """Unique, quality-filtered frame hashes of one file and the time each first appears."""

    bits: np.ndarray  # uint8 [n, 32]
    times: np.ndarray  # float64 [n]


@dataclass(frozen=True)
class VpdqMatch:
    """A vPDQ match: both percentages and, for a still, the closest frame's time."""

    query_percent: float
    target_percent: float
    still_time: float | None


def hash_file(path: Path) -> VpdqHash:
    """Hash a video (or an image, as one frame) with the reference vPDQ implementation."""
    features = vpdq.computeHash(str(path), seconds_per_hash=SECONDS_PER_HASH)
    seen: dict[str, float] = {}
    for feature in features:
        if feature.quality >= QUALITY and feature.hex not in seen:
            seen[feature.hex] = feature.timestamp
    bits = np.array([np.frombuffer(bytes.fromhex(h), np.uint8) for h in seen], np.uint8)
    return VpdqHash(bits.reshape(-1, 32), np.array(list(seen.values()), np.float64))


def _distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances between two sets of 256-bit hashes."""
    xor = a[:, None, :] ^ b[None, :, :]
    return np.unpackbits(xor, axis=2).sum(axis=2)


def compare(query: VpdqHash, target: VpdqHash, still: bool) -> VpdqMatch | None:
    """The vPDQ decision for one pair; None when it is not a match."""
    if len(query.bits) == 0 or len(target.bits) == 0:
        return None
    close = _distances(query.bits, target.bits) <= DISTANCE
    query_percent = 100.0 * close.any(axis=1).mean()
    target_percent = 100.0 * close.any(axis=0).mean()
    if max(query_percent, target_percent) < MATCH_PERCENT:
        return None
    still_time = None
    if still:
        still_time = float(target.times[np.argmin(_distances(query.bits, target.bits)[0])])
    return VpdqMatch(query_percent, target_percent, still_time)


def search(query: VpdqHash, targets: dict[int, VpdqHash], still: bool) -> dict[int, VpdqMatch]:
    """Brute-force comparison of a query with every target, as vPDQ's reference matcher."""
    found = {}
    for asset_id, target in targets.items():
        result = compare(query, target, still)
        if result is not None:
            found[asset_id] = result
    return found
