"""A fingerprint as bytes for the catalog, and back."""

from __future__ import annotations

import io
import json

import numpy as np

from testament.fingerprint import Fingerprint

FORMAT = 3  # 2 added the hash of the picture's centre (`inner`), 3 the place descriptor


def pack(fingerprint: Fingerprint) -> bytes:
    """Arrays in NumPy's portable .npz layout, with the scalar fields as a JSON header."""
    header = {
        "format": FORMAT,
        "kind": fingerprint.kind,
        "duration": fingerprint.duration,
        "crop": list(fingerprint.crop) if fingerprint.crop else None,
    }
    arrays = {
        "header": np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
        "times": np.asarray(fingerprint.times, dtype=np.float64),
        "hashes": np.asarray(fingerprint.hashes, dtype=np.uint8),
        "quality": np.asarray(fingerprint.quality, dtype=np.uint8),
    }
    if fingerprint.inner is not None:
        arrays["inner"] = np.asarray(fingerprint.inner, dtype=np.uint8)
    if fingerprint.place is not None:
        arrays["place"] = np.asarray(fingerprint.place, dtype=np.int8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def unpack(data: bytes) -> Fingerprint:
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        header = json.loads(arrays["header"].tobytes().decode("utf-8"))
        if header.get("format") not in (1, 2, FORMAT):
            raise ValueError(f"unknown fingerprint format {header.get('format')!r}")
        crop = header["crop"]
        return Fingerprint(
            kind=header["kind"],
            duration=header["duration"],
            times=arrays["times"],
            hashes=arrays["hashes"],
            quality=arrays["quality"],
            crop=tuple(crop) if crop else None,
            inner=arrays["inner"] if "inner" in arrays.files else None,
            place=arrays["place"] if "place" in arrays.files else None,
        )
