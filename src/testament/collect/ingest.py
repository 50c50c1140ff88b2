"""Preserving collected items: blob first, then catalog records and custody, then probing.

The order makes interruption harmless. A blob becomes visible only when complete; the
asset, capture and their custody events are committed in one transaction that names
only blobs already on disk; the steps after (fingerprinting, previews) run once that is
committed, and are redone by the next run if they were cut short. Running the same
ingest again adds nothing.

Items are committed in batches (many small files to a transaction, each item still with
its own custody events, in order), so that a folder of small images does not pay a
commit, a head-file write and a look-up of the log's end for every file. With a queue
configured the steps are jobs for `testament worker`s (see `testament.jobs`).
"""

from __future__ import annotations

import enum
import hashlib
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from testament.catalog.models import Asset, Capture
from testament.collect.items import Collected, Item, Problem, Sighting, Skipped
from testament.collect.storable import unstorable
from testament.jobs.dispatch import Dispatch, dispatch_for
from testament.locker.attest import collected_details, probed_details, stored_details
from testament.locker.blobstore import BlobStoreError, StoredBlob, local_file
from testament.locker.custody import canonical_json
from testament.media.probe import TOOL as PROBE_TOOL
from testament.media.probe import ProbeResult, probe_file
from testament.store import Store


class Outcome(enum.Enum):
    PRESERVED = "preserved"
    ALREADY_PRESENT = "already present"
    PARSE_ERROR = "preserved with parse error"
    MEDIA_MISSING = "recorded without media"
    SKIPPED = "skipped"
    FAILED = "failed"


@dataclass(frozen=True)
class Result:
    label: str
    outcome: Outcome
    sha256: str | None = None
    new_capture: bool = False
    message: str | None = None


@dataclass
class Summary:
    results: list[Result] = field(default_factory=list)

    def count(self, outcome: Outcome) -> int:
        return sum(1 for result in self.results if result.outcome is outcome)

    @property
    def ok(self) -> bool:
        """True unless something could not be preserved."""
        return self.count(Outcome.FAILED) == 0

    def as_dict(self) -> dict[str, Any]:
        return {outcome.name.lower(): self.count(outcome) for outcome in Outcome} | {
            "new_captures": sum(1 for r in self.results if r.new_capture)
        }


class Reporter(Protocol):
    """Where ingest tells a person (or a test) how it is going."""

    def item_started(self, label: str, size: int | None) -> None: ...

    def bytes_done(self, count: int) -> None: ...

    def item_finished(self, result: Result) -> None: ...


class SilentReporter:
    def item_started(self, label: str, size: int | None) -> None:
        pass

    def bytes_done(self, count: int) -> None:
        pass

    def item_finished(self, result: Result) -> None:
        pass


class Step(Protocol):
    """Work done on each preserved asset after it is catalogued (fingerprinting, ...).

    A step may also have `batch(assets)`, or `prepare(assets)` and `record(prepared)`: the
    embedded default then hands it each committed batch at once, and runs a `prepare`
    while the steps before it run (see `testament.jobs.dispatch.Inline`).
    """

    def __call__(self, asset: Asset) -> None: ...

    def finish(self) -> None:
        """Called once when the run ends, even if it failed part-way."""


def default_steps(store: Store) -> list[Step]:
    """What the embedded default does in-process before `ingest` returns."""
    from testament.enrich.step import Analyses, at_ingest
    from testament.footage.linking import Fingerprinting
    from testament.media.thumbnails import Thumbnails  # previews before anyone asks for them

    return [Fingerprinting(store), Thumbnails(store)] + ([Analyses(store)] if at_ingest() else [])


def capture_key(sha256: str | None, sighting: Sighting) -> str:
    """Identity of a sighting: the same file seen in the same place is one capture."""
    identity = {
        "sha256": sha256,
        "method": sighting.method,
        "platform": sighting.platform,
        "url": sighting.url,
        "channel": sighting.channel_id or sighting.channel,
        "post_id": sighting.post_id,
        "source_path": sighting.source_path,
        "filename": sighting.filename if sha256 is None else None,
    }
    return hashlib.sha256(canonical_json(identity).encode("utf-8")).hexdigest()


def _new_capture(
    store: Store, key: str, sighting: Sighting, asset: Asset | None, missing_reason: str | None
) -> Capture:
    return Capture(
        key=key,
        asset_id=asset.id if asset else None,
        method=sighting.method,
        platform=sighting.platform,
        url=sighting.url,
        channel=sighting.channel,
        channel_id=sighting.channel_id,
        post_id=sighting.post_id,
        post_text=sighting.post_text,
        posted_at=sighting.posted_at,
        forwarded_from=sighting.forwarded_from,
        views=sighting.views,
        reply_to=sighting.reply_to,
        note=sighting.note,
        source_path=sighting.source_path,
        filename=sighting.filename,
        media_missing=missing_reason is not None,
        missing_reason=missing_reason,
        tool=sighting.tool,
        raw=sighting.raw,
        collected_at=datetime.now(UTC),
        collected_by=store.actor,
    )


def record_capture(
    store: Store,
    session: Session,
    sighting: Sighting,
    asset: Asset | None,
    missing_reason: str | None = None,
) -> bool:
    """Record one sighting with its `collected` event; False when the catalog already has it."""
    sha256 = asset.sha256 if asset else None
    key = capture_key(sha256, sighting)
    if session.execute(select(Capture.id).where(Capture.key == key)).first():
        return False
    capture = _new_capture(store, key, sighting, asset, missing_reason)
    session.add(capture)
    session.flush()
    subject = f"asset:{sha256}" if sha256 else f"capture:{capture.id}"
    store.custody.append(session, "collected", subject, collected_details(capture, sha256))
    return True


def _is_catalogued(store: Store, sha256: str) -> bool:
    with store.read() as session:
        return session.execute(select(Asset.id).where(Asset.sha256 == sha256)).first() is not None


def probe_blob(
    store: Store, blob: StoredBlob, filename: str | None, source: Path | None = None
) -> ProbeResult | None:
    """Probe the preserved bytes (not the source) of an asset the catalog does not know yet.

    `source`, the file just stored, stands in for a download from object storage when a
    copy of it still hashes to the blob's digest: the same bytes, without a round trip.
    """
    if _is_catalogued(store, blob.digests.sha256):
        return None
    return _probe_stored(store, blob, filename, source)


def _probe_stored(
    store: Store, blob: StoredBlob, filename: str | None, source: Path | None = None
) -> ProbeResult:
    with local_file(store.blobs, blob.digests.sha256, source) as path:
        return probe_file(path, filename)


def new_asset(
    store: Store, session: Session, blob: StoredBlob, filename: str | None, probe: ProbeResult
) -> Asset:
    """Catalogue a stored blob as an asset, with its `stored` and `probed` events."""
    digests = blob.digests
    now = datetime.now(UTC)
    asset = Asset(
        sha256=digests.sha256,
        md5=digests.md5,
        sha512=digests.sha512,
        size=digests.size,
        original_filename=filename,
        stored_at=now,
        stored_by=store.actor,
        media_type=probe.media_type,
        mime_type=probe.mime_type,
        probe=probe.metadata,
        parse_error=probe.error,
        probed_at=now,
    )
    session.add(asset)
    session.flush()
    subject = f"asset:{digests.sha256}"
    store.custody.append(session, "stored", subject, stored_details(asset))
    store.custody.append(session, "probed", subject, probed_details(asset, PROBE_TOOL))
    return asset


def _record_blob(
    store: Store,
    session: Session,
    blob: StoredBlob,
    sighting: Sighting,
    probe: ProbeResult | None,
) -> tuple[Asset, bool, bool]:
    """Catalog the asset (if new, with its probe) and the capture, in the caller's transaction."""
    # The asset's captures are not loaded: a file named by many rows has many.
    asset = session.execute(
        select(Asset).where(Asset.sha256 == blob.digests.sha256).options(lazyload(Asset.captures))
    ).scalar_one_or_none()
    created = asset is None
    if asset is None:
        if probe is None:  # another process catalogued it and then it vanished: re-probe
            probe = _probe_stored(store, blob, sighting.filename)
        asset = new_asset(store, session, blob, sighting.filename, probe)
    new_capture = record_capture(store, session, sighting, asset)
    return asset, created, new_capture


@dataclass
class _Stored:
    """A preserved blob waiting for its batch's transaction."""

    label: str
    blob: StoredBlob
    sighting: Sighting
    probe: ProbeResult | None


@dataclass
class _Missing:
    """A sighting whose media was not exported, waiting for its batch's transaction."""

    item: Item


# A batch is committed when it holds this many items or bytes, or is this old: small files
# share a transaction, a large one commits on its own, and progress is never long unseen.
BATCH_ITEMS = 200
BATCH_BYTES = 64 << 20
BATCH_SECONDS = 1.0


class Ingest:
    """Runs items through preservation in batches, reporting each result in order."""

    def __init__(
        self,
        store: Store,
        reporter: Reporter | None = None,
        steps: Sequence[Step] | None = None,
        dispatch: Dispatch | None = None,
    ) -> None:
        self.store = store
        self.reporter = reporter or SilentReporter()
        self.steps = list(default_steps(store) if steps is None else steps)
        self.dispatch = dispatch or dispatch_for(store, self.steps)
        self._batch: list[_Stored | _Missing] = []
        self._batch_bytes = 0
        self._batch_started = 0.0

    @property
    def run_id(self) -> str | None:
        """The id the jobs this run queued carry (None in the embedded default)."""
        return self.dispatch.run

    def run(self, collected: Iterable[Collected]) -> Summary:
        """Preserve everything; in the embedded default, returns once every step is done.

        With a queue configured it returns once everything is preserved and its jobs sent.
        """
        summary = Summary()
        try:
            for entry in collected:
                for outcome in self._one(entry):
                    if isinstance(outcome, Result):
                        self._flush(summary)
                        self._report(summary, outcome)
                    else:
                        self._add(summary, outcome)
            self._flush(summary)
        finally:
            self.dispatch.finish()
        return summary

    def _report(self, summary: Summary, result: Result) -> None:
        summary.results.append(result)
        self.reporter.item_finished(result)

    def _add(self, summary: Summary, pending: _Stored | _Missing) -> None:
        if not self._batch:
            self._batch_started = time.monotonic()
        self._batch.append(pending)
        if isinstance(pending, _Stored):
            self._batch_bytes += pending.blob.digests.size
        if (
            len(self._batch) >= BATCH_ITEMS
            or self._batch_bytes >= BATCH_BYTES
            or time.monotonic() - self._batch_started >= BATCH_SECONDS
        ):
            self._flush(summary)

    def _flush(self, summary: Summary) -> None:
        """Commit the batch in one transaction, then run or queue the steps on its assets."""
        if not self._batch:
            return
        batch, self._batch, self._batch_bytes = self._batch, [], 0
        results: list[Result] = []
        assets: dict[int, Asset] = {}
        with self.store.write() as session:
            for pending in batch:
                if isinstance(pending, _Missing):
                    results.append(self._missing(session, pending.item))
                    continue
                asset, created, new_capture = _record_blob(
                    self.store, session, pending.blob, pending.sighting, pending.probe
                )
                if asset.id not in assets:
                    assets[asset.id] = asset
                    self.dispatch.preserved(session, asset)
                results.append(_outcome(pending.label, asset, created, new_capture))
        self.dispatch.committed(list(assets.values()))
        for result in results:
            self._report(summary, result)

    def _one(self, entry: Collected) -> list[Result | _Stored | _Missing]:
        if isinstance(entry, Problem):
            return [Result(entry.label, Outcome.FAILED, message=entry.message)]
        if isinstance(entry, Skipped):
            return [Result(entry.label, Outcome.SKIPPED, message=entry.message)]
        if entry.missing_reason is not None:
            self.reporter.item_started(entry.label, None)
            refused = unstorable(entry.sighting)
            if refused is not None:
                return [Result(entry.label, Outcome.FAILED, message=refused)]
            return [_Missing(entry)]
        if entry.fetch is not None:
            return self._fetched(entry)
        assert entry.path is not None
        return [self._local(entry.label, entry.path, entry.sighting)]

    def _missing(self, session: Session, item: Item) -> Result:
        new = record_capture(self.store, session, item.sighting, None, item.missing_reason)
        return Result(
            item.label, Outcome.MEDIA_MISSING, new_capture=new, message=item.missing_reason
        )

    def _fetched(self, item: Item) -> list[Result | _Stored | _Missing]:
        assert item.fetch is not None
        self.reporter.item_started(item.label, None)
        with tempfile.TemporaryDirectory(prefix="testament-fetch-") as folder:
            try:
                downloads = item.fetch(Path(folder))
            except Exception as exc:  # noqa: BLE001 - a failed download fails this item only
                return [Result(item.label, Outcome.FAILED, message=f"download failed: {exc}")]
            return [
                self._local(
                    f"{item.label} ({d.path.name})" if len(downloads) > 1 else item.label,
                    d.path,
                    d.sighting.merged(item.sighting),
                )
                for d in downloads
            ]

    def _local(self, label: str, path: Path, sighting: Sighting) -> Result | _Stored:
        refused = unstorable(sighting)
        if refused is not None:  # checked before the blob is stored, which would be orphaned
            return Result(label, Outcome.FAILED, message=refused)
        try:
            size = path.stat().st_size
            self.reporter.item_started(label, size)
            with path.open("rb") as source:
                blob = self.store.blobs.put(source, self.reporter.bytes_done)
        except OSError as exc:
            return Result(label, Outcome.FAILED, message=f"cannot read ({exc.strerror or exc})")
        except BlobStoreError as exc:
            return Result(label, Outcome.FAILED, message=str(exc))
        return _Stored(label, blob, sighting, probe_blob(self.store, blob, sighting.filename, path))


def _outcome(label: str, asset: Asset, created: bool, new_capture: bool) -> Result:
    if not created:
        outcome = Outcome.ALREADY_PRESENT
    elif asset.parse_error:
        outcome = Outcome.PARSE_ERROR
    else:
        outcome = Outcome.PRESERVED
    return Result(label, outcome, asset.sha256, new_capture, asset.parse_error)
