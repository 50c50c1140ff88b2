"""Originals in S3-compatible object storage, with the local folder's promises.

Keys mirror the folder: `<prefix>/sha256/ab/cd/<sha256>`.

- Written once. Every write is conditional (`If-None-Match: *` on PutObject and on
  CompleteMultipartUpload); a store that already holds the key answers 412 and the
  bytes there stay. SeaweedFS honours the header on both calls (checked with 4.48, the
  version the tests run against). A store that answers 501 to it instead is written
  after a HEAD check alone: two writers of one key can then both write, but the key is
  the SHA-256 of the bytes and each write is checksummed, so what lands is identical.
- Verified on upload. Each PutObject and each UploadPart carries its SHA-256
  (`x-amz-checksum-sha256`); the server refuses a body that does not match (BadDigest),
  and the checksum it reports for a completed multipart object is compared with ours.
- Never partial. A small blob is one PutObject, atomic by S3's rules. A large one is a
  multipart upload, invisible until completed, and completed only once every part is
  in and the whole stream re-hashed to the digest that names it; on any failure it is
  aborted. Parts of a writer killed outright stay as an incomplete upload, never as an
  object; `remove_abandoned_parts` aborts those older than a day (another machine's
  writer may still be at work on a younger one).
- Two reads of a large source. The key is the digest, known only once the stream has
  ended, and S3 cannot rename an object (a server-side copy would write everything
  twice on the server), so the source is hashed once to name it, then streamed up while
  hashed again. A source that cannot seek is spooled to a local temporary file on the
  first pass. Memory stays at a few parts either way.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import math
import os
import queue
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from testament.locker.blobstore import SHA256_RE, BlobStoreError, StoredBlob
from testament.locker.digests import copy_and_digest

MIB = 1024 * 1024
PART_SIZE = 8 * MIB  # the smallest part; larger objects get larger parts
MAX_PARTS = 10_000  # S3's limit on parts in one upload
UPLOAD_THREADS = 4
READ_CHUNK = 1 * MIB
READ_AHEAD = 8  # chunks fetched ahead of the hash while re-hashing
ABANDONED_AFTER = timedelta(days=1)

T = TypeVar("T")


def b64_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _read_exactly(source: BinaryIO, size: int) -> bytes:
    """Up to `size` bytes, fewer only at the end of the stream (a pipe may return less)."""
    chunks, wanted = [], size
    while wanted > 0 and (chunk := source.read(wanted)):
        chunks.append(chunk)
        wanted -= len(chunk)
    return b"".join(chunks)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def make_client(endpoint: str | None) -> Any:
    """A boto3 S3 client; credentials and region come from the usual AWS_* settings."""
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    config = Config(
        # Path-style addressing is what self-hosted stores (SeaweedFS, MinIO) answer.
        s3={"addressing_style": "path"} if endpoint else {},
        retries={"mode": "standard", "max_attempts": 5},
        max_pool_connections=2 * UPLOAD_THREADS + 8,
        connect_timeout=10,
        read_timeout=120,
        # testament sends SHA-256 checksums itself and hashes what it reads itself.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint or None, region_name=region, config=config
    )


def _spool(source: BinaryIO, first: bytes, spool: BinaryIO) -> None:
    spool.write(first)
    shutil.copyfileobj(source, spool, 4 * MIB)


class S3BlobStore:
    """Blobs as objects under `s3://bucket/prefix/sha256/ab/cd/<sha256>`."""

    verify_threads = 4  # re-hashing overlaps the latency of several objects

    def __init__(
        self, bucket: str, prefix: str, client: Any, *, endpoint: str | None = None
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client
        self.endpoint = endpoint
        self.conditional_writes = True
        self.part_size = PART_SIZE

    @classmethod
    def from_url(cls, url: str, endpoint: str | None = None) -> S3BlobStore:
        parsed = urlparse(url)
        if parsed.scheme != "s3" or not parsed.netloc:
            raise BlobStoreError(f"not an object storage URL (s3://bucket/prefix): {url}")
        endpoint = endpoint or os.environ.get("AWS_ENDPOINT_URL_S3") or None
        return cls(parsed.netloc, parsed.path, make_client(endpoint), endpoint=endpoint)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")

    def __repr__(self) -> str:
        return f"S3BlobStore({self.url!r}, endpoint={self.endpoint!r})"

    def _objects(self) -> str:
        return f"{self.prefix}/sha256/" if self.prefix else "sha256/"

    def key(self, sha256: str) -> str:
        if not SHA256_RE.match(sha256):
            raise ValueError(f"not a sha256 digest: {sha256!r}")
        return f"{self._objects()}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _error(self, what: str, exc: Exception) -> BlobStoreError:
        """One line naming the store, the request and what went wrong."""
        if isinstance(exc, NoCredentialsError):
            return BlobStoreError(
                f"{self.url}: no credentials for object storage (set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE)"
            )
        if isinstance(exc, ClientError):
            message = exc.response.get("Error", {}).get("Message") or _code(exc)
            return BlobStoreError(f"{self.url}: {what}: {message} ({_code(exc)})")
        return BlobStoreError(f"{self.url}: {what}: {exc}")

    def _call(self, what: str, operation: Callable[[], T]) -> T:
        try:
            return operation()
        except (ClientError, BotoCoreError) as exc:
            raise self._error(what, exc) from exc

    def create(self) -> None:
        """Make the bucket if it is not there yet (init is idempotent)."""
        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except (ClientError, BotoCoreError) as exc:
            if not isinstance(exc, ClientError) or _status(exc) != 404:
                raise self._error(f"open bucket {self.bucket!r}", exc) from exc
        self._call("create bucket", lambda: self.client.create_bucket(Bucket=self.bucket))

    def local_path(self, sha256: str) -> Path | None:
        return None

    def size(self, sha256: str) -> int | None:
        """The stored object's size, or None when it is not there."""
        key = self.key(sha256)
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and _status(exc) == 404:
                return None
            raise self._error("head " + key, exc) from exc
        return int(head["ContentLength"])

    def exists(self, sha256: str) -> bool:
        return self.size(sha256) is not None

    def open(self, sha256: str, offset: int = 0) -> BinaryIO:
        """A stream of the object from `offset` on, read as it is consumed."""
        key = self.key(sha256)
        extra = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key, **extra)
        except (ClientError, BotoCoreError) as exc:
            if isinstance(exc, ClientError) and _status(exc) == 404:
                raise FileNotFoundError(f"{self.url}: no blob {sha256}") from exc
            raise self._error("get " + key, exc) from exc
        return response["Body"]  # type: ignore[no-any-return]

    def iter_sha256(self) -> Iterator[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._objects()
        )
        try:
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"].rsplit("/", 1)[-1]
                    if SHA256_RE.match(name) and item["Key"] == self.key(name):
                        yield name
        except (ClientError, BotoCoreError) as exc:
            raise self._error("list objects", exc) from exc

    def current_sha256(self, sha256: str) -> str:
        """Re-hash the stored bytes as they arrive; a reader thread keeps the socket busy."""
        chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=READ_AHEAD)
        stop = threading.Event()

        def read() -> None:
            try:
                with self.open(sha256) as body:
                    while not stop.is_set() and (chunk := body.read(READ_CHUNK)):
                        chunks.put(chunk)
                chunks.put(None)
            except BaseException as exc:  # noqa: BLE001 (the hashing thread raises it)
                chunks.put(exc)

        reader = threading.Thread(target=read, name="s3-read", daemon=True)
        reader.start()
        digest = hashlib.sha256()
        try:
            while (item := chunks.get()) is not None:
                if isinstance(item, BaseException):
                    if isinstance(item, (ClientError, BotoCoreError)):
                        raise self._error(f"read {sha256}", item) from item
                    raise item
                digest.update(item)
        finally:
            stop.set()
            with contextlib.suppress(queue.Empty):
                while True:  # unblock a reader waiting on a full queue
                    chunks.get_nowait()
            reader.join()
        return digest.hexdigest()

    def put(
        self,
        source: BinaryIO,
        progress: Callable[[int], object] | None = None,
        expect: str | None = None,
    ) -> StoredBlob:
        """Store a stream under its SHA-256; `expect`, when given, must be that digest."""
        first = _read_exactly(source, self.part_size + 1)
        if len(first) <= self.part_size:
            return self._put_small(first, progress, expect)
        with contextlib.ExitStack() as stack:
            if source.seekable():
                stream, start = source, source.tell() - len(first)
            else:  # read it once into a local file to read it twice
                stream, start = stack.enter_context(tempfile.TemporaryFile()), 0
                _spool(source, first, stream)
            stream.seek(start)
            digests = copy_and_digest(stream)
            self._check_expected(digests.sha256, expect)
            if self.exists(digests.sha256):
                if progress is not None:
                    progress(digests.size)
                return StoredBlob(digests, created=False)
            stream.seek(start)
            created = self._put_multipart(stream, digests.sha256, digests.size, progress)
            return StoredBlob(digests, created=created)

    def _check_expected(self, sha256: str, expect: str | None) -> None:
        if expect is not None and sha256 != expect:
            raise BlobStoreError(
                f"{self.url}: refused: the bytes hash to {sha256}, not the expected {expect}"
            )

    def _put_small(
        self, data: bytes, progress: Callable[[int], object] | None, expect: str | None
    ) -> StoredBlob:
        digests = copy_and_digest(io.BytesIO(data))
        self._check_expected(digests.sha256, expect)
        key = self.key(digests.sha256)
        created = self._conditional(
            digests.sha256,
            lambda condition: self.client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ChecksumSHA256=b64_sha256(data),
                **condition,
            ),
        )
        if progress is not None:
            progress(len(data))
        return StoredBlob(digests, created=created)

    def _conditional(self, sha256: str, write: Callable[[dict[str, str]], object]) -> bool:
        """Write unless the blob exists; False when it already did."""
        key = self.key(sha256)
        if self.conditional_writes:
            try:
                write({"IfNoneMatch": "*"})
                return True
            except (ClientError, BotoCoreError) as exc:
                if not isinstance(exc, ClientError):
                    raise self._error("write " + key, exc) from exc
                if _status(exc) == 412 or _code(exc) == "PreconditionFailed":
                    return False
                if _status(exc) != 501 and _code(exc) != "NotImplemented":
                    raise self._error("write " + key, exc) from exc
                self.conditional_writes = False  # this store has no conditional writes
        if self.exists(sha256):
            return False
        self._call("write " + key, lambda: write({}))
        return True

    def _part_size(self, size: int) -> int:
        return max(self.part_size, math.ceil(size / MAX_PARTS / MIB) * MIB)

    def _put_multipart(
        self, stream: BinaryIO, sha256: str, size: int, progress: Callable[[int], object] | None
    ) -> bool:
        key = self.key(sha256)
        upload = self._call(
            "start upload " + key,
            lambda: self.client.create_multipart_upload(
                Bucket=self.bucket, Key=key, ChecksumAlgorithm="SHA256"
            ),
        )
        upload_id = upload["UploadId"]
        try:
            parts, rehashed = self._upload_parts(
                stream, key, upload_id, self._part_size(size), progress
            )
            if rehashed != sha256:
                raise BlobStoreError(
                    f"{self.url}: the source changed while it was uploaded (it now hashes "
                    f"to {rehashed}, not {sha256}); nothing was stored"
                )
            digest = hashlib.sha256()
            for part in parts:
                digest.update(base64.b64decode(part["ChecksumSHA256"]))
            composite = f"{base64.b64encode(digest.digest()).decode()}-{len(parts)}"
            completed: dict[str, Any] = {}

            def complete(condition: dict[str, str]) -> None:
                completed.update(
                    self.client.complete_multipart_upload(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        MultipartUpload={"Parts": parts},
                        **condition,
                    )
                )

            created = self._conditional(sha256, complete)
            reported = completed.get("ChecksumSHA256")
            if created and reported and reported != composite:
                raise BlobStoreError(
                    f"{self.url}: {key}: the store reports checksum {reported}, not {composite}"
                )
            if not created:
                self._abort(key, upload_id)
            return created
        except BaseException:
            self._abort(key, upload_id)
            raise

    def _abort(self, key: str, upload_id: str) -> None:
        with contextlib.suppress(ClientError, BotoCoreError):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)

    def _upload_parts(
        self,
        stream: BinaryIO,
        key: str,
        upload_id: str,
        part_size: int,
        progress: Callable[[int], object] | None,
    ) -> tuple[list[dict[str, Any]], str]:
        """Read part after part, hashing the whole stream again, with a few parts in flight."""
        whole = hashlib.sha256()
        in_flight = threading.BoundedSemaphore(UPLOAD_THREADS + 1)
        futures: list[Future[dict[str, Any]]] = []

        def send(number: int, data: bytes, checksum: str) -> dict[str, Any]:
            try:
                response = self._call(
                    f"upload part {number} of {key}",
                    lambda: self.client.upload_part(
                        Bucket=self.bucket,
                        Key=key,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=data,
                        ChecksumSHA256=checksum,
                        ChecksumAlgorithm="SHA256",
                    ),
                )
                if response.get("ChecksumSHA256", checksum) != checksum:
                    raise BlobStoreError(f"{self.url}: part {number} of {key} arrived altered")
                if progress is not None:
                    progress(len(data))
                return {"PartNumber": number, "ETag": response["ETag"], "ChecksumSHA256": checksum}
            finally:
                in_flight.release()

        with ThreadPoolExecutor(UPLOAD_THREADS, thread_name_prefix="s3-part") as pool:
            number = 0
            while data := _read_exactly(stream, part_size):
                number += 1
                whole.update(data)
                checksum = b64_sha256(data)
                in_flight.acquire()
                futures.append(pool.submit(send, number, data, checksum))
                if any(f.done() and f.exception() for f in futures):
                    break
            parts = [future.result() for future in futures]
        return parts, whole.hexdigest()

    def remove_abandoned_parts(self, older_than: timedelta = ABANDONED_AFTER) -> int:
        """Abort multipart uploads under this prefix begun more than `older_than` ago."""
        cutoff = datetime.now(UTC) - older_than
        removed = 0
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self._objects()
        )
        try:
            for page in pages:
                for upload in page.get("Uploads", []):
                    if upload["Initiated"] < cutoff:
                        self._abort(upload["Key"], upload["UploadId"])
                        removed += 1
        except (ClientError, BotoCoreError) as exc:
            raise self._error("list unfinished uploads", exc) from exc
        return removed
