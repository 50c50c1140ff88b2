"""The same audio: Chromaprint fingerprints matched across the locker with their offset.

A soundtrack re-used under new pictures, a screen recording with the sound on, or a clip
cut from a longer one share stretches of raw Chromaprint fingerprint; sliding one over
the other, the offset where the fewest bits differ is where they line up. Matches become
`same_audio` footage links unless the pictures already linked the pair.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset
from testament.enrich.analyser import AnalysisError, Found
from testament.enrich.models import Analysis

ITEM_SECONDS = 4096 / 3 / 11025  # Chromaprint's default: one 32-bit item every ~0.124 s
MIN_OVERLAP = 16  # items (~2 s) in common before a match is believed
MAX_BIT_ERROR = 0.20  # measured: the same sound at most 0.1, other sounds 0.3 and more
RELATION = "same_audio"


def has_sound(asset: Asset) -> bool:
    streams = (asset.probe or {}).get("streams", [])
    return any(isinstance(s, dict) and s.get("type") == "audio" for s in streams)


def best_alignment(a: np.ndarray, b: np.ndarray) -> tuple[int, float, int] | None:
    """(shift k: a[i] lines up with b[i + k], fraction of differing bits, items overlapping)
    at the shift with the fewest differing bits, if any shift overlaps MIN_OVERLAP items."""
    best: tuple[int, float, int] | None = None
    for shift in range(-(len(a) - MIN_OVERLAP), len(b) - MIN_OVERLAP + 1):
        start_a, start_b = max(0, -shift), max(0, shift)
        count = min(len(a) - start_a, len(b) - start_b)
        if count < MIN_OVERLAP:
            continue
        xor = np.bitwise_xor(a[start_a : start_a + count], b[start_b : start_b + count])
        errors = int(np.unpackbits(xor.view(np.uint8)).sum()) / (32 * count)
        if best is None or errors < best[1]:
            best = (shift, errors, count)
    return best


class SameAudio:
    """Chromaprint (`fpcalc -raw`) fingerprints, matched against every other one."""

    name = "audio"
    tool = "chromaprint fpcalc"

    def missing(self) -> str | None:
        if shutil.which("fpcalc") is None:
            return "audio: fpcalc is not installed (apt-get install libchromaprint-tools)"
        return None

    def version(self) -> str:
        done = subprocess.run(["fpcalc", "-version"], capture_output=True, text=True, check=False)
        words = done.stdout.split()
        return words[2] if len(words) > 2 else done.stdout.strip()

    def model(self) -> str | None:
        return None

    def applies(self, asset: Asset) -> bool:
        return asset.media_type in ("video", "audio") and has_sound(asset)

    def analyse(self, asset: Asset, path: Path, session: Session) -> Found:
        done = subprocess.run(
            ["fpcalc", "-raw", "-json", "-length", "0", str(path)],
            capture_output=True,
            text=True,
            check=False,
            timeout=3600,
        )
        try:
            # fpcalc exits non-zero at a clip's ragged end, after printing the fingerprint.
            printed = json.loads(done.stdout)
        except ValueError:
            printed = {}
        if not printed.get("fingerprint"):
            raise AnalysisError(f"fpcalc could not read the sound: {done.stderr.strip()[:300]}")
        items = [int(v) & 0xFFFFFFFF for v in printed.get("fingerprint", [])]
        mine = np.array(items, dtype=np.uint32)
        matches, links = [], []
        for other_id, sha256, theirs in _others(session, asset.id):
            aligned = best_alignment(mine, theirs) if len(mine) and len(theirs) else None
            if aligned is None or aligned[1] > MAX_BIT_ERROR:
                continue
            shift, errors, count = aligned
            offset = round(shift * ITEM_SECONDS, 2)
            matches.append(
                {
                    "sha256": sha256,
                    "offset": offset,
                    "seconds": round(count * ITEM_SECONDS, 1),
                    "bit_error": round(errors, 3),
                }
            )
            links.append(
                {
                    "asset_b_id": other_id,
                    "relation": RELATION,
                    "score": round(1 - errors, 3),
                    "coverage_a": round(count / len(mine), 3),
                    "coverage_b": round(count / len(theirs), 3),
                    "offset": offset,
                }
            )
        result = {
            "duration": printed.get("duration"),
            "items": len(items),
            "fingerprint": items,
            "matches": matches,
        }
        return Found(result, links=links)

    def summary(self, result: dict[str, Any]) -> str:
        matches = result.get("matches", [])
        line = f"fingerprint of {result.get('duration') or 0:.0f} s"
        if not matches:
            return line + ", no other asset with this sound"
        return (
            line
            + "; same audio as "
            + ", ".join(f"{m['sha256'][:12]} (offset {m['offset']:+.1f} s)" for m in matches)
        )


def _others(session: Session, asset_id: int) -> list[tuple[int, str, np.ndarray]]:
    """The newest audio fingerprint of every other asset."""
    query = (
        select(Analysis.asset_id, Asset.sha256, Analysis.result)
        .join(Asset, Asset.id == Analysis.asset_id)
        .where(Analysis.analyser == "audio", Analysis.status == "ok", Analysis.asset_id != asset_id)
        .order_by(Analysis.id)
    )
    newest: dict[int, tuple[int, str, np.ndarray]] = {}
    for other_id, sha256, result in session.execute(query):
        items = (result or {}).get("fingerprint", [])
        newest[other_id] = (other_id, sha256, np.array(items, dtype=np.uint32))
    return list(newest.values())
