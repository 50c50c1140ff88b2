"""Content-addressed storage of originals.

Callers see only the `BlobStore` protocol, so object storage (locker/s3store.py) can
replace the local folder without touching them; code that needs a file on disk (decoders
like paths) asks `local_file`, which downloads only when the store has no path to give.
The local store never shows a partial blob: bytes go to a private temporary file, are
fsynced, made read-only and renamed into place.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import urlparse

from testament.locker.digests import CHUNK, Digests, copy_and_digest, sha256_of

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


class BlobStoreError(Exception):
    """The blob store could not be opened or written."""


@dataclass(frozen=True)
class StoredBlob:
    digests: Digests
    created: bool  # False when identical bytes were already stored


class BlobStore(Protocol):
    """What the rest of testament needs from a place that keeps originals."""

    # How many blobs `verify` re-hashes at once: 1 for a disk, more where latency dominates.
    verify_threads: int

    @property
    def url(self) -> str:
        """Where the store is, as TESTAMENT_BLOB_URL names it."""

    def create(self) -> None:
        """Make the store's folder or bucket (idempotent)."""

    def put(
        self,
        source: BinaryIO,
        progress: Callable[[int], object] | None = None,
        expect: str | None = None,
    ) -> StoredBlob:
        """Store a stream, returning its digests; identical content is stored once.

        With `expect`, bytes that do not hash to it are refused and nothing is stored.
        """

    def exists(self, sha256: str) -> bool: ...

    def size(self, sha256: str) -> int | None:
        """The stored blob's size in bytes, or None when it is missing."""

    def open(self, sha256: str, offset: int = 0) -> BinaryIO:
        """Open a stored blob for reading, from `offset` on (FileNotFoundError if missing)."""

    def local_path(self, sha256: str) -> Path | None:
        """A filesystem path to the blob, where the store has one (decoders like paths)."""

    def iter_sha256(self) -> Iterator[str]:
        """Every stored blob, in no particular order."""

    def current_sha256(self, sha256: str) -> str:
        """Re-hash the stored bytes, streaming: the fixity check."""

    def remove_abandoned_parts(self) -> int:
        """Remove what killed writers left half-written; return how many."""


@contextlib.contextmanager
def local_file(blobs: BlobStore, sha256: str, source: Path | None = None) -> Iterator[Path]:
    """A path to the blob's bytes for as long as the block runs.

    The store's own file where it has one; otherwise a private temporary copy, checked
    against its digest on the way so that nothing is derived from altered bytes, and
    deleted afterwards. `source`, a local file the blob was just stored from, is copied
    instead of downloading the blob when it still hashes to the digest (ingest probing
    what it has just uploaded to object storage).
    """
    path = blobs.local_path(sha256)
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="testament-blob-") as folder:
        copy = Path(folder) / sha256
        if source is None or _copy_hashed(source, copy) != sha256:
            copy.unlink(missing_ok=True)
            with blobs.open(sha256) as stored:
                found = _copy_hashed(stored, copy)
            if found != sha256:
                raise BlobStoreError(f"blob {sha256} in {blobs.url}: its bytes now hash to {found}")
        yield copy


def _copy_hashed(source: Path | BinaryIO, copy: Path) -> str:
    """Copy `source` to the new file `copy`; the SHA-256 of what was copied."""
    digest = hashlib.sha256()
    with contextlib.ExitStack() as stack:
        reader = stack.enter_context(source.open("rb")) if isinstance(source, Path) else source
        out = stack.enter_context(copy.open("xb"))
        while chunk := reader.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


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

    verify_threads = 1  # one disk: reading in order is fastest

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

    @property
    def url(self) -> str:
        return f"file://{self.root}"

    def local_path(self, sha256: str) -> Path | None:
        return self.path(sha256)

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def size(self, sha256: str) -> int | None:
        try:
            return self.path(sha256).stat().st_size
        except FileNotFoundError:
            return None

    def open(self, sha256: str, offset: int = 0) -> BinaryIO:
        handle = self.path(sha256).open("rb")
        if offset:
            handle.seek(offset)
        return handle

    def put(
        self,
        source: BinaryIO,
        progress: Callable[[int], object] | None = None,
        expect: str | None = None,
    ) -> StoredBlob:
        if not self.tmp.is_dir():
            raise BlobStoreError(f"blob store not initialised at {self.root}")
        part = self.tmp / f"{os.getpid()}-{uuid.uuid4().hex}.part"
        try:
            with part.open("xb") as out:
                digests = copy_and_digest(source, out.write, progress)
                out.flush()
                os.fsync(out.fileno())
            if expect is not None and digests.sha256 != expect:
                raise BlobStoreError(
                    f"{self.root}: refused: the bytes hash to {digests.sha256}, "
                    f"not the expected {expect}"
                )
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


def open_blob_store(url: str, endpoint: str | None = None) -> BlobStore:
    """The blob store named by a URL: `file:///path` or `s3://bucket/prefix`.

    `endpoint` is the S3 service's address for stores other than AWS (SeaweedFS, MinIO).
    """
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return LocalBlobStore(Path(parsed.path if parsed.scheme else url))
    if parsed.scheme == "s3":
        from testament.locker.s3store import S3BlobStore  # boto3 loads only when used

        return S3BlobStore.from_url(url, endpoint)
    raise BlobStoreError(f"unsupported blob store URL scheme {parsed.scheme!r} in {url}")
