"""Digests of a byte stream: SHA-256 for identity, MD5 and SHA-512 for other archives.

The three hashes are fed in parallel threads (hashlib releases the GIL on large
buffers), so preserving a file costs little more than reading and writing it once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Digests:
    sha256: str
    md5: str
    sha512: str
    size: int


class _Hashers:
    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha512 = hashlib.sha512()
        self.size = 0

    def result(self) -> Digests:
        return Digests(
            self.sha256.hexdigest(), self.md5.hexdigest(), self.sha512.hexdigest(), self.size
        )


def copy_and_digest(
    source: BinaryIO,
    sink: Callable[[bytes], object] | None = None,
    progress: Callable[[int], object] | None = None,
) -> Digests:
    """Read `source` to the end, passing each chunk to `sink`, and return its digests.

    Memory stays bounded by a few chunks whatever the size of the stream.
    """
    hashers = _Hashers()
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="digest") as pool:
        chunk = source.read(CHUNK)
        while chunk:
            side = [
                pool.submit(hashers.md5.update, chunk),
                pool.submit(hashers.sha512.update, chunk),
            ]
            hashers.sha256.update(chunk)
            if sink is not None:
                sink(chunk)
            hashers.size += len(chunk)
            if progress is not None:
                progress(len(chunk))
            next_chunk = source.read(CHUNK)
            for future in side:
                future.result()
            chunk = next_chunk
    return hashers.result()


def sha256_of(source: BinaryIO) -> str:
    """SHA-256 alone, for re-checking fixity where the other digests are not needed."""
    digest = hashlib.sha256()
    while chunk := source.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
