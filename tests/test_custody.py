"""The custody log: hash chain, signatures, and detection of every kind of tampering."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select, text, update

from testament.catalog.models import CustodyEvent
from testament.locker.custody import (
    GENESIS_HASH,
    check_chain,
    check_heads,
    iter_events,
    read_catalog_head,
    read_head,
    signed_bytes,
)
from testament.locker.keys import load_signer
from testament.store import Store
from tests.system import need_tool


def _append(store: Store, count: int) -> None:
    for i in range(count):
        store.record("noted", f"test:{i}", {"i": i, "text": "Ереван — ağ"})


def _problems(store: Store) -> list[str]:
    with store.read() as session:
        chain = check_chain(iter_events(session), store.signer.public)
        heads = check_heads(
            chain,
            store.signer.public,
            read_head(store.settings.custody_head_path),
            read_catalog_head(session),
        )
    return [p.message for p in chain.problems + heads]


def test_events_chain_and_verify(store: Store) -> None:
    _append(store, 5)
    with store.read() as session:
        events = list(iter_events(session))
    assert [e.seq for e in events] == list(range(1, 7))  # init + 5
    assert events[0].action == "init" and events[0].prev_hash == GENESIS_HASH
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
    assert all(e.actor == "tester" for e in events)
    assert _problems(store) == []


def test_private_key_is_owner_only(store: Store) -> None:
    mode = store.settings.signing_key_path.stat().st_mode & 0o777
    assert mode == 0o600


def test_edited_event_is_named(store: Store) -> None:
    _append(store, 4)
    with store.write() as session:
        session.execute(
            update(CustodyEvent).where(CustodyEvent.seq == 3).values(details='{"i":99}')
        )
    assert any("event #3: content does not match its hash" in p for p in _problems(store))


def test_deleted_event_is_named(store: Store) -> None:
    _append(store, 4)
    with store.write() as session:
        session.execute(text("DELETE FROM custody_events WHERE seq = 3"))
    problems = _problems(store)
    assert any("event #4 follows #2" in p for p in problems)
    assert any("event #4: does not link" in p for p in problems)


def test_deleted_tail_is_detected_through_the_head(store: Store) -> None:
    _append(store, 4)
    with store.write() as session:
        session.execute(text("DELETE FROM custody_events WHERE seq >= 4"))
    problems = _problems(store)
    assert "custody head file names event #5, which is missing or changed" in problems[0]
    assert "the catalog's custody head names event #5, which is missing" in problems[1]


def test_reordered_events_are_named(store: Store) -> None:
    _append(store, 4)
    with store.write() as session:
        session.execute(text("UPDATE custody_events SET seq = -1 WHERE seq = 3"))
        session.execute(text("UPDATE custody_events SET seq = 3 WHERE seq = 4"))
        session.execute(text("UPDATE custody_events SET seq = 4 WHERE seq = -1"))
    problems = _problems(store)
    assert any("event #3: content does not match" in p for p in problems)
    assert any("does not link" in p for p in problems)


def test_inserted_event_is_named(store: Store) -> None:
    _append(store, 3)
    with store.write() as session:
        session.execute(text("UPDATE custody_events SET seq = seq + 1000 WHERE seq >= 3"))
        session.execute(text("UPDATE custody_events SET seq = seq - 999 WHERE seq >= 1000"))
        forged = session.execute(select(CustodyEvent).where(CustodyEvent.seq == 2)).scalar_one()
        fake = CustodyEvent(
            seq=3,
            time=forged.time,
            actor="intruder",
            action="noted",
            subject="test:x",
            details="{}",
            prev_hash=forged.hash,
            key_id=forged.key_id,
            signature=forged.signature,
        )
        fake.hash = hashlib.sha256(signed_bytes(fake)).hexdigest()
        session.add(fake)
    problems = _problems(store)
    assert any("event #3: bad signature" in p for p in problems)
    assert any("event #4: content does not match" in p for p in problems)


def test_signature_by_another_key_is_bad(store: Store, tmp_path: Path) -> None:
    _append(store, 2)
    from testament.locker.keys import create_keys

    other = create_keys(tmp_path / "other.pem", tmp_path / "other.pub.pem")
    with store.write() as session:
        event = session.execute(select(CustodyEvent).where(CustodyEvent.seq == 2)).scalar_one()
        event.signature = other.sign(signed_bytes(event))
    assert _problems(store) == ["event #2: bad signature"]


def test_signatures_check_with_openssl(store: Store, tmp_path: Path) -> None:
    """Anyone can check an event without testament: canonical bytes + Ed25519 + public key."""
    openssl = need_tool("openssl", "apt-get install openssl")
    _append(store, 1)
    with store.read() as session:
        event = session.execute(select(CustodyEvent).where(CustodyEvent.seq == 2)).scalar_one()
    message = tmp_path / "event.json"
    message.write_bytes(signed_bytes(event))
    assert hashlib.sha256(message.read_bytes()).hexdigest() == event.hash
    (tmp_path / "event.sig").write_bytes(base64.b64decode(event.signature))
    public = load_signer(store.settings.signing_key_path).public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (tmp_path / "key.pem").write_bytes(public)
    result = subprocess.run(
        [
            openssl,
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(tmp_path / "key.pem"),
            "-rawin",
            "-in",
            str(message),
            "-sigfile",
            str(tmp_path / "event.sig"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert json.loads(message.read_text())["prev_hash"] == event.prev_hash


def test_tampered_head_file_is_named(store: Store) -> None:
    _append(store, 1)
    path = store.settings.custody_head_path
    body = json.loads(path.read_text())
    body["seq"] = 1
    path.write_text(json.dumps(body))
    assert _problems(store) == ["custody head file has a bad signature"]


@pytest.mark.parametrize("workers", [4])
def test_concurrent_appends_keep_one_chain(store: Store, workers: int) -> None:
    import threading

    def work(n: int) -> None:
        for i in range(10):
            store.record("noted", f"thread:{n}:{i}", {})

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert _problems(store) == []
    with store.read() as session:
        assert [e.seq for e in iter_events(session)] == list(range(1, 2 + workers * 10))
