"""Content-addressed storage of originals.

Callers see only the `BlobStore` protocol, so object storage can replace the local
folder without touching them. The local store never shows a partial blob: bytes go to
a private temporary file, are fsynced, made read-only and renamed into place.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlparse

from testament.locker.digests import Digests, copy_and_digest, sha256_of

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class BlobStoreError(Exception):
    """The blob store could not be opened or written."""


@dataclass(frozen=True)
class StoredBlob:
    digests: Digests
    created: bool  # False when identical bytes were already stored


class BlobStore(Protocol):
    """What the rest of testament needs from a place that keeps originals."""

    def put(self, source: BinaryIO, progress: Callable[[int], object] | None = None) -> StoredBlob:
        """Store a stream, returning its digests; identical content is stored once."""

    def exists(self, sha256: str) -> bool: ...

    def open(self, sha256: str) -> BinaryIO:
        """Open a stored blob for reading."""

    def local_path(self, sha256: str) -> Path | None:
        """A filesystem path to the blob, where the store has one (decoders like paths)."""

    def iter_sha256(self) -> Iterator[str]:
        """Every stored blob, in no particular order."""

    def current_sha256(self, sha256: str) -> str:
        """Re-hash the stored bytes: the fixity check."""


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore:
    """Blobs as read-only files under `root/sha256/ab/cd/<sha256>`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "sha256"
        self.tmp = root / "tmp"

    def create(self) -> None:
        self.objects.mkdir(parents=True, exist_ok=True)
        self.tmp.mkdir(parents=True, exist_ok=True)

    def path(self, sha256: str) -> Path:
        if not SHA256_RE.match(sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return self.objects / sha256[:2] / sha256[2:4] / sha256

    def local_path(self, sha256: str) -> Path | None:
        return self.path(sha256)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def open(self, sha256: str) -> BinaryIO:
        return self.path(sha256).open("rb")

    def put(self, source: BinaryIO, progress: Callable[[int], object] | None = None) -> StoredBlob:
        if not self.tmp.is_dir():
            raise BlobStoreError(f"blob store not initialised at {self.root}")
        part = self.tmp / f"{os.getpid()}-{uuid.uuid4().hex}.part"
        try:
            with part.open("xb") as out:
                digests = copy_and_digest(source, out.write, progress)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(part, 0o444)
            final = self.path(digests.sha256)
            if final.is_file():
                return StoredBlob(digests, created=False)
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(part, final)
            _fsync_dir(final.parent)
            return StoredBlob(digests, created=True)
        finally:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()

    def iter_sha256(self) -> Iterator[str]:
        if not self.objects.is_dir():
            return
        for path in self.objects.glob("??/??/*"):
            if SHA256_RE.match(path.name):
                yield path.name

    def current_sha256(self, sha256: str) -> str:
        with self.open(sha256) as handle:
            return sha256_of(handle)

    def remove_abandoned_parts(self) -> int:
        """Delete temporary files left by writers that were killed; return how many."""
        removed = 0
        if not self.tmp.is_dir():
            return 0
        for part in self.tmp.glob("*.part"):
            pid_text = part.name.split("-", 1)[0]
            if pid_text.isdigit() and _pid_alive(int(pid_text)):
                continue
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
                removed += 1
        return removed


def open_blob_store(url: str) -> LocalBlobStore:
    """The blob store named by a URL (`file:///path`)."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return LocalBlobStore(Path(parsed.path if parsed.scheme else url))
    raise BlobStoreError(f"unsupported blob store URL scheme {parsed.scheme!r} in {url}")
