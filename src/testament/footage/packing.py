"""A fingerprint as bytes for the catalog, and back."""

from __future__ import annotations

import io
import json

import numpy as np

from testament.fingerprint import Fingerprint

FORMAT = 1


def pack(fingerprint: Fingerprint) -> bytes:
    """Arrays in NumPy's portable .npz layout, with the scalar fields as a JSON header."""
    header = {
        "format": FORMAT,
        "kind": fingerprint.kind,
        "duration": fingerprint.duration,
        "crop": list(fingerprint.crop) if fingerprint.crop else None,
    }
    buffer = io.BytesIO()
    np.savez(
        buffer,
        header=np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8),
        times=np.asarray(fingerprint.times, dtype=np.float64),
        hashes=np.asarray(fingerprint.hashes, dtype=np.uint8),
        quality=np.asarray(fingerprint.quality, dtype=np.uint8),
    )
    return buffer.getvalue()


def unpack(data: bytes) -> Fingerprint:
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        header = json.loads(arrays["header"].tobytes().decode("utf-8"))
        if header.get("format") != FORMAT:
            raise ValueError(f"unknown fingerprint format {header.get('format')!r}")
        crop = header["crop"]
        return Fingerprint(
            kind=header["kind"],
            duration=header["duration"],
            times=arrays["times"],
            hashes=arrays["hashes"],
            quality=arrays["quality"],
            crop=tuple(crop) if crop else None,
        )
