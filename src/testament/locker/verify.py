"""Checking a whole store: what `testament verify` proves.

1. The custody log: every event's hash, link, sequence and signature, and both copies of
   its head (the catalog's row and the `custody.head` file), so that no event was edited,
   inserted, reordered or deleted, even from the end.
2. The catalog against the log: every asset, capture, derivative and fingerprint agrees,
   field by field, with its signed event, and every such event still has its record.
3. The blobs: every original and every derivative (thumbnails, keyframes, redacted copies)
   is present and re-hashes to its name, which its record and its signed event hold. The
   bytes are re-read from wherever the store keeps them (a folder, or object storage,
   streamed a few at a time with a few chunks each in memory); a checksum that the store
   itself keeps is never taken in their place.
4. Anchors: every RFC 3161 timestamp recorded in the log still names an event of it.

What it cannot prove is in docs/security.md: above all, whoever holds the signing key can
rewrite the whole log consistently; only copies of the head held elsewhere defend that.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.catalog.models import Asset, CustodyEvent, Derivative
from testament.locker.anchors import Anchors
from testament.locker.custody import (
    CustodyError,
    check_chain,
    check_heads,
    iter_events,
    read_catalog_head,
    read_head,
)
from testament.locker.reconcile import SignedRecords, reconcile, short
from testament.store import Store


@dataclass
class VerifyReport:
    blobs_checked: int = 0
    derivatives_checked: int = 0
    bytes_checked: int = 0
    records_checked: int = 0
    events_checked: int = 0
    head: tuple[int, str] | None = None
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {
            "intact": self.intact,
            "blobs_checked": self.blobs_checked,
            "derivatives_checked": self.derivatives_checked,
            "bytes_checked": self.bytes_checked,
            "records_checked": self.records_checked,
            "events_checked": self.events_checked,
            "head": None if self.head is None else {"seq": self.head[0], "hash": self.head[1]},
            "problems": self.problems,
            "warnings": self.warnings,
        }


@dataclass(frozen=True)
class Blob:
    sha256: str
    label: str  # how a person finds it: "blob <sha>" or "thumbnail blob <sha> of asset …"
    size: int | None


def _snapshot(session: Session) -> None:
    """One consistent view of events, head and records (PostgreSQL reads per statement)."""
    if session.get_bind().dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


def _check_catalog(
    store: Store, report: VerifyReport, expected: list[tuple[int, str]]
) -> list[Blob]:
    """The chain, its heads, its anchors and the catalog's records; returns the blobs to hash."""
    signed = SignedRecords()
    anchors = Anchors()
    with store.read() as session:
        _snapshot(session)
        in_catalog = read_catalog_head(session)

        def events() -> Iterator[CustodyEvent]:
            for event in iter_events(session):
                signed.add(event)
                anchors.add(event)
                yield event

        chain = check_chain(events(), store.signer.public)
        report.events_checked = chain.count
        report.head = chain.last
        report.problems += [p.message for p in chain.problems]
        on_file = read_head(store.settings.custody_head_path)
        heads = check_heads(chain, store.signer.public, on_file, in_catalog)
        report.problems += [p.message for p in heads]
        report.problems += anchors.check(chain)
        for seq, hash_ in expected:
            if chain.hashes.get(seq) != hash_:
                report.problems.append(
                    f"event #{seq}: the head written down as {seq}:{hash_[:12]}… is not in "
                    "the log (the log was rewritten or truncated since)"
                )
        reconciled = reconcile(session, signed)
        blobs = _blobs(session)
    report.records_checked = reconciled.records
    report.problems += reconciled.problems
    if reconciled.incomplete:
        report.warnings.append(
            f"{reconciled.incomplete} record(s) were signed before testament attested every "
            "field: only the fields their events hold are proven (docs/security.md)"
        )
    return blobs


def _blobs(session: Session) -> list[Blob]:
    found = [
        Blob(sha256, f"blob {sha256}", size)
        for sha256, size in session.execute(select(Asset.sha256, Asset.size).order_by(Asset.id))
    ]
    query = (
        select(Derivative.sha256, Derivative.kind, Asset.sha256)
        .join(Asset, Derivative.asset_id == Asset.id)
        .order_by(Derivative.id)
    )
    for sha256, kind, asset in session.execute(query):
        found.append(Blob(sha256, f"{kind} blob {sha256} of asset {short(asset)}", None))
    return found


@dataclass(frozen=True)
class Fixity:
    size: int | None  # None: missing from the blob store
    sha256: str | None


def _fixity(store: Store, sha256: str) -> Fixity:
    size = store.blobs.size(sha256)
    if size is None:
        return Fixity(None, None)
    try:
        return Fixity(size, store.blobs.current_sha256(sha256))
    except FileNotFoundError:  # removed between the two requests
        return Fixity(None, None)


def _fixities(store: Store, blobs: list[Blob]) -> Iterator[tuple[Blob, Fixity]]:
    """Each blob re-hashed, in order; object storage re-hashes a few at once.

    The store's own re-hash streams, so memory stays at a few chunks per blob in flight.
    """
    threads = max(1, store.blobs.verify_threads)
    if threads == 1:
        for blob in blobs:
            yield blob, _fixity(store, blob.sha256)
        return
    with ThreadPoolExecutor(threads, thread_name_prefix="verify") as pool:
        pending: deque[tuple[Blob, Future[Fixity]]] = deque()
        for blob in blobs:
            pending.append((blob, pool.submit(_fixity, store, blob.sha256)))
            if len(pending) >= 2 * threads:
                first, future = pending.popleft()
                yield first, future.result()
        while pending:
            first, future = pending.popleft()
            yield first, future.result()


def _check_blobs(
    store: Store, blobs: list[Blob], report: VerifyReport, progress: Callable[[int], object]
) -> None:
    checked: set[str] = set()
    unique = []
    for blob in blobs:
        if blob.sha256 not in checked:
            checked.add(blob.sha256)
            unique.append(blob)
    for blob, fixity in _fixities(store, unique):
        if blob.size is None:
            report.derivatives_checked += 1
        else:
            report.blobs_checked += 1
        if fixity.size is None:
            report.problems.append(f"{blob.label}: missing from the blob store")
            continue
        if fixity.sha256 != blob.sha256:
            report.problems.append(
                f"{blob.label}: content changed (its bytes now hash to {fixity.sha256})"
            )
        size = blob.size if blob.size is not None else fixity.size
        report.bytes_checked += size
        progress(size)
    for sha256 in store.blobs.iter_sha256():
        if sha256 not in checked:
            report.warnings.append(
                f"blob {sha256}: stored but not catalogued (an interrupted ingest; "
                "ingesting the file again records it)"
            )


def verify_store(
    store: Store,
    progress: Callable[[int], object] = lambda _n: None,
    expected_heads: list[tuple[int, str]] | None = None,
) -> VerifyReport:
    """Check the log, the catalog against it, and every blob; record the outcome in the log.

    `expected_heads` are heads written down earlier ((seq, hash)); each must still be in
    the log.
    """
    report = VerifyReport()
    blobs = _check_catalog(store, report, expected_heads or [])
    _check_blobs(store, blobs, report, progress)
    outcome = {
        "intact": report.intact,
        "blobs_checked": report.blobs_checked,
        "derivatives_checked": report.derivatives_checked,
        "records_checked": report.records_checked,
        "events_checked": report.events_checked,
        "problems": len(report.problems),
    }
    try:
        store.record("verified", f"store:{store.signer.key_id}", outcome)
    except CustodyError as exc:
        report.warnings.append(f"this run is not recorded in the log: {exc}")
    return report
