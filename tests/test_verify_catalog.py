"""`verify` compares the catalog with the signed events, and checks derivatives like originals.

Each tamper below changes the catalog (or a derivative's blob) the way someone with access
to the database or the folder could, leaving the signed log alone; verify must name it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from testament.catalog.models import (
    Asset,
    Capture,
    CustodyEvent,
    Derivative,
    FingerprintRecord,
    FootageLink,
)
from testament.locker.verify import verify_store
from testament.media import redact
from testament.store import Store
from tests import web_support as ws
from tests.media import make_image
from tests.test_redact import FixedBoxes


@pytest.fixture
def bench(store: Store, tmp_path: Path) -> dict[str, str]:
    """A store used as the workbench uses it: thumbnails, keyframes and a redacted copy."""
    video = ws.small_video(store, tmp_path)
    image = ws.ingest(
        store,
        make_image(tmp_path / "still.png", seed=3),
        platform="telegram",
        channel="Channel A",
        url="https://t.me/a/7",
        post_id="7",
        # A posting time in another zone: the catalog keeps it as UTC.
        posted_at=datetime(2020, 12, 10, 13, 30, tzinfo=timezone(timedelta(hours=4))),
    )
    with store.read() as session:
        asset = session.execute(select(Asset).where(Asset.sha256 == image)).scalar_one()
    assert redact.ensure_redacted(store, asset, FixedBoxes()) is not None
    return {"video": video, "image": image}


def _seq(store: Store, action: str, sha256: str) -> int:
    with store.read() as session:
        return session.execute(
            select(func.max(CustodyEvent.seq)).where(
                CustodyEvent.action == action, CustodyEvent.subject == f"asset:{sha256}"
            )
        ).scalar_one()


def _change(store: Store, statement: Any) -> None:
    with store.write() as session:
        session.execute(statement)


def test_workbench_store_is_intact_without_false_warnings(store: Store, bench) -> None:
    report = verify_store(store)
    assert report.intact, report.problems
    assert report.warnings == []
    with store.read() as session:
        derivatives = session.execute(select(func.count()).select_from(Derivative)).scalar_one()
        blobs = session.execute(select(func.count(Derivative.sha256.distinct()))).scalar_one()
    assert derivatives >= 3 and report.derivatives_checked == blobs
    assert report.blobs_checked == 2
    # 2 assets, 2 captures, 2 fingerprints and every derivative, each against its event.
    assert report.records_checked == 2 + 2 + 2 + derivatives


def _image_capture(store: Store, sha256: str) -> int:
    with store.read() as session:
        return session.execute(
            select(Capture.id).join(Asset).where(Asset.sha256 == sha256)
        ).scalar_one()


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("channel", "Channel B"),
        ("url", "https://t.me/b/8"),
        ("posted_at", datetime(2020, 12, 10, 9, 31, tzinfo=UTC)),
        ("post_text", "a different text"),
        ("collected_by", "someone else"),
        ("raw", {"edited": True}),
    ],
)
def test_edited_capture_is_named(store: Store, bench, column: str, value: Any) -> None:
    capture = _image_capture(store, bench["image"])
    _change(store, update(Capture).where(Capture.id == capture).values({column: value}))
    seq = _seq(store, "collected", bench["image"])
    assert verify_store(store).problems == [
        f"capture {capture}: {column} in the catalog differs from its signed 'collected' "
        f"event (#{seq})"
    ]


@pytest.mark.parametrize(
    ("column", "value", "action"),
    [
        ("size", 1, "stored"),
        ("md5", "0" * 32, "stored"),
        ("original_filename", "other.png", "stored"),
        ("stored_at", datetime(2021, 1, 1, tzinfo=UTC), "stored"),
        ("media_type", "other", "probed"),
        ("probe", {"width": 1}, "probed"),
    ],
)
def test_edited_asset_is_named(store: Store, bench, column: str, value: Any, action: str) -> None:
    sha = bench["image"]
    _change(store, update(Asset).where(Asset.sha256 == sha).values({column: value}))
    assert verify_store(store).problems == [
        f"asset {sha[:12]}…: {column} in the catalog differs from its signed '{action}' "
        f"event (#{_seq(store, action, sha)})"
    ]


def test_edited_derivative_and_fingerprint_are_named(store: Store, bench) -> None:
    sha = bench["video"]
    with store.read() as session:
        asset_id = session.execute(select(Asset.id).where(Asset.sha256 == sha)).scalar_one()
        thumbnail = session.execute(
            select(Derivative).where(
                Derivative.asset_id == asset_id, Derivative.kind == "thumbnail"
            )
        ).scalar_one()
    _change(store, update(Derivative).where(Derivative.id == thumbnail.id).values(params={}))
    _change(
        store,
        update(FingerprintRecord)
        .where(FingerprintRecord.asset_id == asset_id)
        .values(frame_count=1, data=b"\0" * 32),
    )
    problems = verify_store(store).problems
    assert problems[0].startswith(
        f"thumbnail {thumbnail.sha256[:12]}… of asset {sha[:12]}…: params in the catalog "
        "differs from its signed 'derived' event (#"
    )
    assert problems[1:] == [
        f"fingerprint of asset {sha[:12]}…: {column} in the catalog differs from its signed "
        f"'fingerprinted' event (#{_seq(store, 'fingerprinted', sha)})"
        for column in ("data", "frame_count")
    ]


def test_deleted_asset_and_blob_are_named(store: Store, bench) -> None:
    sha = bench["image"]
    with store.write() as session:
        asset_id = session.execute(select(Asset.id).where(Asset.sha256 == sha)).scalar_one()
        for model in (Capture, Derivative, FingerprintRecord):
            session.execute(delete(model).where(model.asset_id == asset_id))
        session.execute(
            delete(FootageLink).where(
                (FootageLink.asset_a_id == asset_id) | (FootageLink.asset_b_id == asset_id)
            )
        )
        session.execute(delete(Asset).where(Asset.id == asset_id))
    path = store.blobs.path(sha)
    os.chmod(path, 0o644)
    path.unlink()
    problems = verify_store(store).problems
    assert (
        f"asset {sha[:12]}…: in its signed 'stored' event (#{_seq(store, 'stored', sha)}) "
        "but missing from the catalog"
    ) in problems
    assert any(p.startswith("capture ") and "missing from the catalog" in p for p in problems)
    assert any(p.startswith("redacted ") and "missing from the catalog" in p for p in problems)
    assert any(p.startswith("fingerprint of asset") for p in problems)


def test_record_without_an_event_is_named(store: Store, bench) -> None:
    with store.write() as session:
        forged = Capture(key="f" * 64, method="file", collected_by="nobody")
        session.add(forged)
        session.flush()
        capture_id = forged.id
    assert verify_store(store).problems == [
        f"capture {capture_id}: in the catalog with no signed 'collected' event"
    ]


def test_changed_and_missing_derivative_blobs_are_named(store: Store, bench) -> None:
    with store.read() as session:
        distinct: dict[str, Any] = {}
        for row in session.execute(
            select(Derivative.kind, Derivative.sha256).order_by(Derivative.id)
        ):
            distinct.setdefault(row.sha256, row)
        first, second = list(distinct.values())[:2]
    changed = store.blobs.path(first.sha256)
    os.chmod(changed, 0o644)
    changed.write_bytes(b"not the thumbnail")
    gone = store.blobs.path(second.sha256)
    os.chmod(gone, 0o644)
    gone.unlink()
    problems = verify_store(store).problems
    video = bench["video"][:12]
    assert problems == [
        f"{first.kind} blob {first.sha256} of asset {video}…: content changed (its bytes now "
        f"hash to {store.blobs.current_sha256(first.sha256)})",
        f"{second.kind} blob {second.sha256} of asset {video}…: missing from the blob store",
    ]


def test_events_from_older_writers_prove_what_they_hold(store: Store, bench) -> None:
    """A 'stored' event as the first writers made it (no stored_at) still proves the md5."""
    sha = bench["image"]
    seq = _seq(store, "stored", sha)
    with store.read() as session:
        event = session.get(CustodyEvent, seq)
        assert event is not None
        details = event.details
    legacy = details.replace(details[details.index(',"stored_at"') : details.rindex("}")], "")
    assert '"stored_at"' not in legacy
    # Re-signing stands for a store written before every field was attested.
    _rewrite_event(store, seq, lambda event: setattr(event, "details", legacy))
    report = verify_store(store)
    assert report.intact, report.problems
    assert report.warnings == [
        "1 record(s) were signed before testament attested every field: only the fields "
        "their events hold are proven (docs/security.md)"
    ]
    _change(store, update(Asset).where(Asset.sha256 == sha).values(md5="0" * 32))
    assert any("md5 in the catalog differs" in p for p in verify_store(store).problems)


def _rewrite_event(store: Store, seq: int, change: Callable[[CustodyEvent], object]) -> None:
    """Change one event and re-sign the chain from it on, as whoever holds the key can."""
    import hashlib

    from testament.locker.custody import signed_bytes

    with store.write() as session:
        events = session.execute(
            select(CustodyEvent).where(CustodyEvent.seq >= seq).order_by(CustodyEvent.seq)
        ).scalars()
        previous = None
        for event in events:
            if event.seq == seq:
                change(event)
            if previous is not None:
                event.prev_hash = previous
            event.hash = hashlib.sha256(signed_bytes(event)).hexdigest()
            event.signature = store.signer.sign(signed_bytes(event))
            previous = event.hash
            last = event
        session.flush()
        store.custody._set_catalog_head(session, last.seq, last.hash)
    store.settings.custody_head_path.unlink()
    store.custody.write_head(last.seq, last.hash)
