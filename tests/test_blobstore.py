"""The local blob store: content addressing, atomic writes, read-only originals."""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

import pytest

from testament.locker.blobstore import BlobStoreError, LocalBlobStore, open_blob_store
from testament.locker.digests import copy_and_digest


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    store = LocalBlobStore(tmp_path / "blobs")
    store.create()
    return store


def test_put_stores_bytes_under_their_sha256(blobs: LocalBlobStore) -> None:
    data = os.urandom(100_000)
    stored = blobs.put(io.BytesIO(data))
    assert stored.created
    assert stored.digests.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.digests.md5 == hashlib.md5(data).hexdigest()
    assert stored.digests.sha512 == hashlib.sha512(data).hexdigest()
    assert stored.digests.size == len(data)
    path = blobs.path(stored.digests.sha256)
    assert path.read_bytes() == data
    assert path.relative_to(blobs.root).parts[:3] == (
        "sha256",
        stored.digests.sha256[:2],
        stored.digests.sha256[2:4],
    )


def test_blobs_are_read_only(blobs: LocalBlobStore) -> None:
    stored = blobs.put(io.BytesIO(b"original"))
    mode = blobs.path(stored.digests.sha256).stat().st_mode
    assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)


def test_identical_content_is_stored_once(blobs: LocalBlobStore) -> None:
    first = blobs.put(io.BytesIO(b"same bytes"))
    second = blobs.put(io.BytesIO(b"same bytes"))
    assert first.created and not second.created
    assert list(blobs.iter_sha256()) == [first.digests.sha256]
    assert list(blobs.tmp.iterdir()) == []


def test_digests_match_hashlib_across_chunk_boundaries() -> None:
    data = os.urandom(9 * 1024 * 1024 + 7)
    sink = io.BytesIO()
    digests = copy_and_digest(io.BytesIO(data), sink.write)
    assert sink.getvalue() == data
    assert digests.sha256 == hashlib.sha256(data).hexdigest()
    assert digests.sha512 == hashlib.sha512(data).hexdigest()


def test_empty_file_is_a_blob_too(blobs: LocalBlobStore) -> None:
    stored = blobs.put(io.BytesIO(b""))
    assert stored.digests.sha256 == hashlib.sha256(b"").hexdigest()
    assert blobs.exists(stored.digests.sha256)


def test_abandoned_parts_of_dead_writers_are_removed(blobs: LocalBlobStore) -> None:
    dead = blobs.tmp / "999999999-abc.part"
    dead.write_bytes(b"half a file")
    alive = blobs.tmp / f"{os.getpid()}-def.part"
    alive.write_bytes(b"being written")
    assert blobs.remove_abandoned_parts() == 1
    assert not dead.exists() and alive.exists()


def test_uninitialised_store_refuses_to_write(tmp_path: Path) -> None:
    with pytest.raises(BlobStoreError, match="not initialised"):
        LocalBlobStore(tmp_path / "nowhere").put(io.BytesIO(b"x"))


def test_unsupported_url_is_named() -> None:
    with pytest.raises(BlobStoreError, match="ftp"):
        open_blob_store("ftp://example.org/blobs")


def test_bad_digest_is_rejected(blobs: LocalBlobStore) -> None:
    with pytest.raises(ValueError, match="not a sha256"):
        blobs.path("../../etc/passwd")
