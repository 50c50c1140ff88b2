"""Digests of a byte stream: SHA-256 for identity, MD5 and SHA-512 for other archives.

The three hashes run in threads of their own (hashlib releases the GIL on large
buffers), so preserving a file costs little more than reading and writing it once.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO

CHUNK = 4 * 1024 * 1024
QUEUE_CHUNKS = 4


@dataclass(frozen=True)
class Digests:
    sha256: str
    md5: str
    sha512: str
    size: int


class _HashWorker:
    """One digest fed from its own queue in its own thread.

    Each digest runs at its own pace (hashlib releases the GIL on large buffers), so the
    three spread over the cores instead of waiting for each other chunk by chunk. The
    bounded queue keeps memory to a few chunks.
    """

    def __init__(self, digest: Any) -> None:
        self.digest = digest
        self.queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self.thread = threading.Thread(target=self._run, name="digest", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (chunk := self.queue.get()) is not None:
            self.digest.update(chunk)

    def hexdigest(self) -> str:
        self.queue.put(None)
        self.thread.join()
        return self.digest.hexdigest()


def copy_and_digest(
    source: BinaryIO,
    sink: Callable[[bytes], object] | None = None,
    progress: Callable[[int], object] | None = None,
) -> Digests:
    """Read `source` to the end, passing each chunk to `sink`, and return its digests.

    Memory stays bounded by a few chunks whatever the size of the stream. A stream of one
    chunk (a photo, a thumbnail) is hashed here: starting three threads would cost more
    than hashing it.
    """
    first = source.read(CHUNK)
    second = source.read(CHUNK) if first else b""
    if not second:
        digests = [hashlib.sha256(), hashlib.md5(usedforsecurity=False), hashlib.sha512()]
        for digest in digests:
            digest.update(first)
        if first and sink is not None:
            sink(first)
        if first and progress is not None:
            progress(len(first))
        sha256, md5, sha512 = (digest.hexdigest() for digest in digests)
        return Digests(sha256, md5, sha512, len(first))
    workers = [
        _HashWorker(hashlib.sha256()),
        _HashWorker(hashlib.md5(usedforsecurity=False)),
        _HashWorker(hashlib.sha512()),
    ]
    size = 0
    pending = [first, second]
    try:
        while chunk := (pending.pop(0) if pending else source.read(CHUNK)):
            for worker in workers:
                worker.queue.put(chunk)
            if sink is not None:
                sink(chunk)
            size += len(chunk)
            if progress is not None:
                progress(len(chunk))
    finally:
        sha256, md5, sha512 = (worker.hexdigest() for worker in workers)
    return Digests(sha256, md5, sha512, size)


def sha256_of(source: BinaryIO) -> str:
    """SHA-256 alone, for re-checking fixity where the other digests are not needed."""
    digest = hashlib.sha256()
    while chunk := source.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()
