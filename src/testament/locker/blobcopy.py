"""Copying a store's originals to another blob store, verified, resumable, never moving.

Each blob is streamed from the current store into the other under the digest it must
have (bytes that do not hash to their name are refused there, so a damaged source copy
is not spread), then re-read at the destination and re-hashed. A blob already at the
destination is re-hashed too and skipped when it is right, which is what makes a second
run resume where an interrupted one stopped: a blob cut off mid-upload was never
visible there. Nothing is ever deleted, at either end; switching the store over is a
setting (TESTAMENT_BLOB_URL), made once the copy reports that every catalogued blob is
there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from testament.catalog.models import Asset, Derivative
from testament.locker.blobstore import BlobStore, BlobStoreError
from testament.store import Store


@dataclass
class CopyReport:
    source: str
    destination: str
    copied: int = 0
    already_there: int = 0
    bytes_copied: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.destination,
            "copied": self.copied,
            "already_there": self.already_there,
            "bytes_copied": self.bytes_copied,
            "complete": self.complete,
            "problems": self.problems,
        }


def catalogued(store: Store) -> set[str]:
    """Every blob the catalog names: originals and derivatives."""
    with store.read() as session:
        found = set(session.execute(select(Asset.sha256)).scalars())
        found.update(session.execute(select(Derivative.sha256)).scalars())
    return found


def _copy_one(
    source: BlobStore,
    target: BlobStore,
    sha256: str,
    report: CopyReport,
    progress: Callable[[int], object],
) -> bool:
    """Copy and check one blob; True when the destination holds it, verified."""
    if target.size(sha256) is not None:
        found = target.current_sha256(sha256)
        if found == sha256:
            report.already_there += 1
            return True
        report.problems.append(
            f"blob {sha256}: already at the destination with other bytes (they hash to "
            f"{found}); left as they are"
        )
        return False
    try:
        with source.open(sha256) as stream:
            stored = target.put(stream, progress, expect=sha256)
    except (BlobStoreError, FileNotFoundError) as exc:
        report.problems.append(f"blob {sha256}: not copied: {exc}")
        return False
    found = target.current_sha256(sha256)
    if found != sha256:
        report.problems.append(f"blob {sha256}: at the destination its bytes hash to {found}")
        return False
    report.copied += 1
    report.bytes_copied += stored.digests.size
    return True


def copy_blobs(
    store: Store,
    target: BlobStore,
    progress: Callable[[int], object] = lambda _n: None,
    blob_done: Callable[[], object] = lambda: None,
) -> CopyReport:
    """Copy every blob of the store to `target`, and record the copy in the custody log."""
    report = CopyReport(store.blobs.url, target.url)
    wanted = catalogued(store)
    target.create()
    there: set[str] = set()
    failed: set[str] = set()
    for sha256 in store.blobs.iter_sha256():
        (there if _copy_one(store.blobs, target, sha256, report, progress) else failed).add(sha256)
        blob_done()
    for sha256 in sorted(wanted - there - failed):
        report.problems.append(
            f"blob {sha256}: in the catalog but not in {store.blobs.url}, so not copied "
            "(testament verify says more)"
        )
    store.record(
        "blobs_copied",
        f"store:{store.signer.key_id}",
        {k: v for k, v in report.as_dict().items() if k != "problems"}
        | {"problems": len(report.problems)},
    )
    return report
