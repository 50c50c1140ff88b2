"""Fingerprinting at ingest, and linking each new asset to the footage it matches."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack
from pathlib import Path

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from testament import __version__
from testament.catalog.models import Asset, FingerprintRecord, FootageLink
from testament.fingerprint import (
    Fingerprint,
    FingerprintError,
    FootageMatch,
    HashIndex,
    Query,
    Segment,
    analyze_file_for_ingest,
    match,
)
from testament.footage.index_cache import LiveIndex, added_since
from testament.footage.packing import pack, unpack
from testament.jobs.threads import each
from testament.locker.attest import fingerprinted_details
from testament.locker.blobstore import BlobStoreError, local_file
from testament.store import Store

TOOL = f"testament-pdq {__version__}"
MATCHABLE = ("video", "image")


class StoredFingerprints(Mapping[int, Fingerprint]):
    """Assets' stored fingerprints, read from the catalog when the matcher asks for one."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._known: dict[int, Fingerprint] = {}

    def __getitem__(self, asset_id: int) -> Fingerprint:
        if asset_id not in self._known:
            data = self.session.execute(
                select(FingerprintRecord.data).where(FingerprintRecord.asset_id == asset_id)
            ).scalar()
            if not data:
                raise KeyError(asset_id)
            self._known[asset_id] = unpack(data)
        return self._known[asset_id]

    def __iter__(self) -> Iterator[int]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)


class StoredFrames:
    """Frames of stored assets at given seconds, decoded from their blobs when the matcher
    asks (it re-checks a still on the frame it was placed at: fingerprint/localcheck.py).
    None where the blob is missing or cannot be decoded: the PDQ decision stands.

    From object storage an asset's blob is copied once, however often the matcher asks
    for its frames (a still is checked at the moment its hashes gave, then at others):
    used as a context manager, which removes the copies at its end.
    """

    def __init__(self, store: Store, session: Session) -> None:
        self.store = store
        self.session = session
        self._copies = ExitStack()
        self._paths: dict[str, Path | None] = {}

    def __enter__(self) -> StoredFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        self._copies.close()

    def __call__(self, asset_id: int, times: Sequence[float]) -> list[np.ndarray] | None:
        from testament.fingerprint.local import frames_at

        found = self.session.execute(
            select(Asset.sha256, Asset.media_type).where(Asset.id == asset_id)
        ).first()
        if found is None or not found.sha256:
            return None
        path = self._path(found.sha256)
        return None if path is None else frames_at(path, times, video=found.media_type == "video")

    def _path(self, sha256: str) -> Path | None:
        """The blob as a file: the store's own, or a copy kept until the context ends."""
        path = self.store.blobs.local_path(sha256)
        if path is not None:
            return path if path.is_file() else None
        if sha256 not in self._paths:
            try:  # object storage: a copy
                self._paths[sha256] = self._copies.enter_context(
                    local_file(self.store.blobs, sha256)
                )
            except (FileNotFoundError, BlobStoreError):
                self._paths[sha256] = None
        return self._paths[sha256]


def _link(match_: FootageMatch, asset_id: int) -> FootageLink:
    """The catalog's record of a match of the new asset `asset_id` (the query)."""
    if match_.relation == "contains" and match_.asset_coverage >= 1.0 and match_.offset is None:
        return _still_link(match_, asset_id)
    return FootageLink(
        asset_a_id=asset_id,
        asset_b_id=match_.asset_id,
        relation=match_.relation,
        score=match_.score,
        coverage_a=match_.query_coverage,
        coverage_b=match_.asset_coverage,
        offset=match_.offset,
        asset_time=match_.asset_time,
        segments=[vars(segment) for segment in match_.segments],
    )


def _still_link(match_: FootageMatch, video_id: int) -> FootageLink:
    """A new video that holds a known still: recorded as the still's, with its second.

    Links must not depend on the order of ingest: the still arriving after the video is
    recorded as `still_from` at its second, and so is the video arriving after the still.
    """
    at = match_.segments[0].query_start if match_.segments else None
    return FootageLink(
        asset_a_id=match_.asset_id,
        asset_b_id=video_id,
        relation="still_from",
        score=match_.score,
        coverage_a=1.0,
        coverage_b=0.0,
        offset=None,
        asset_time=at,
        segments=[] if at is None else [vars(Segment(0.0, 0.0, at, at))],
    )


def _wanted(asset: Asset) -> bool:
    return asset.media_type in MATCHABLE and not asset.parse_error


def _fingerprinted(session: Session, assets: Sequence[Asset]) -> set[int]:
    """Which of the assets have a fingerprint record: one look-up for a batch."""
    ids = [asset.id for asset in assets]
    query = select(FingerprintRecord.asset_id).where(FingerprintRecord.asset_id.in_(ids))
    return set(session.execute(query).scalars())


class Fingerprinting:
    """The ingest step that hashes each new video or image and links it to known footage."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.index = LiveIndex(store.settings.index_dir)

    def __call__(self, asset: Asset) -> None:
        if not _wanted(asset) or self._done(asset):
            return
        fingerprint, query, error = self._analyse(asset)
        matchable = query is not None and fingerprint is not None and len(fingerprint) > 0
        matches, seen = self._matches(asset, query) if matchable else ([], 0)
        with self.store.write() as session:
            if self._done(asset, session):
                return  # another process got there first
            self._record(session, asset, fingerprint, error)
            if matchable:
                matches += self._matches_since(session, asset, query, seen)
            session.add_all(_link(found, asset.id) for found in matches)

    def batch(self, assets: Sequence[Asset]) -> None:
        """Fingerprint and link a committed batch with one catch-up and one commit.

        Decoding and hashing (a still's reshaped pictures too) happen before the write
        lock is taken, the batch's assets in threads (jobs/threads.py); matching under it,
        against the index caught up to that moment and extended by each asset of the batch
        as it is recorded. So the batch's assets are matched with each other, and nothing
        another process commits can slip between matching and recording.
        """
        with self.store.read() as session:
            done = _fingerprinted(session, [asset for asset in assets if _wanted(asset)])
        todo = [asset for asset in assets if _wanted(asset) and asset.id not in done]
        found = each(lambda asset: self._analyse(asset, shapes_ahead=True), todo)
        analysed = [(asset, *one) for asset, one in zip(todo, found, strict=True)]
        if not analysed:
            return
        try:
            with self.store.write() as session:
                index = self.index.current(session)
                done = _fingerprinted(session, todo)  # another process got there first
                for asset, fingerprint, query, error in analysed:
                    if asset.id not in done:
                        self._record_linked(session, index, asset, fingerprint, query, error)
        except BaseException:
            self.index.forget()  # it may hold fingerprints that were never committed
            raise

    def _record_linked(
        self,
        session: Session,
        index: HashIndex,
        asset: Asset,
        fingerprint: Fingerprint | None,
        query: Query | None,
        error: str | None,
    ) -> None:
        """Record one asset's fingerprint and its links, then index it for the next."""
        record = self._record(session, asset, fingerprint, error)
        if fingerprint is None or record.frame_count == 0:
            return
        if query is not None:
            with StoredFrames(self.store, session) as frames:
                found = match(query, index, StoredFingerprints(session), frames)
            session.add_all(_link(m, asset.id) for m in found if m.asset_id != asset.id)
        self.index.extend(record.id, asset.id, fingerprint)

    def _analyse(
        self, asset: Asset, shapes_ahead: bool = False
    ) -> tuple[Fingerprint | None, Query | None, str | None]:
        """The asset's fingerprint and matching query, or why it has none (`shapes_ahead`:
        see `analyze_file_for_ingest`)."""
        try:
            with local_file(self.store.blobs, asset.sha256) as path:
                fingerprint, query = analyze_file_for_ingest(path, shapes_ahead)
            return fingerprint, query, None
        except FingerprintError as exc:
            return None, None, str(exc)

    def _done(self, asset: Asset, session: Session | None = None) -> bool:
        query = select(FingerprintRecord.id).where(FingerprintRecord.asset_id == asset.id)
        if session is not None:
            return session.execute(query).first() is not None
        with self.store.read() as reader:
            return reader.execute(query).first() is not None

    def _matches(self, asset: Asset, query: Query) -> tuple[list[FootageMatch], int]:
        """Known footage the new asset shows (mirrored and re-framed copies included), and
        the last fingerprint row it was matched against."""
        with self.store.read() as session:
            index = self.index.current(session)
            with StoredFrames(self.store, session) as frames:
                found = match(query, index, StoredFingerprints(session), frames)
        return [m for m in found if m.asset_id != asset.id], self.index.last_id

    def _matches_since(
        self, session: Session, asset: Asset, query: Query, seen: int
    ) -> list[FootageMatch]:
        """Footage fingerprinted by another process while this asset was being matched.

        Called under the write lock, after this asset's fingerprint is recorded: whichever
        of two matching assets commits second sees the other here and records the link.
        """
        index = added_since(session, seen)
        if not len(index):
            return []
        with StoredFrames(self.store, session) as frames:
            found = match(query, index, StoredFingerprints(session), frames)
        return [m for m in found if m.asset_id != asset.id]

    def _record(
        self, session: Session, asset: Asset, fingerprint: Fingerprint | None, error: str | None
    ) -> FingerprintRecord:
        record = FingerprintRecord(
            asset_id=asset.id,
            kind=fingerprint.kind if fingerprint else asset.media_type,
            duration=fingerprint.duration if fingerprint else None,
            frame_count=len(fingerprint) if fingerprint else 0,
            data=pack(fingerprint) if fingerprint else b"",
            tool=TOOL,
            error=error,
        )
        session.add(record)
        session.flush()
        self.store.custody.append(
            session, "fingerprinted", f"asset:{asset.sha256}", fingerprinted_details(record)
        )
        return record

    def finish(self) -> None:
        self.index.save()
