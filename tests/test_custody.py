"""The custody log: hash chain, signatures, and detection of every kind of tampering."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import subprocess
from pathlib import Path

import pytest
from alembic import command
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select, text, update

from testament import config
from testament.catalog import database
from testament.catalog.models import CustodyEvent, CustodyHead
from testament.config import Settings
from testament.locker.custody import (
    GENESIS_HASH,
    CustodyError,
    check_chain,
    check_heads,
    current_head,
    iter_events,
    read_catalog_head,
    read_head,
    signed_bytes,
)
from testament.locker.keys import PASSPHRASE_ENV, load_signer
from testament.store import Store, StoreError, init_store, open_store
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


def test_deleted_head_file_is_a_problem(store: Store) -> None:
    _append(store, 2)
    store.settings.custody_head_path.unlink()
    assert _problems(store) == [
        "custody head file is missing (it proves that no events were deleted from the end)"
    ]


def test_truncation_with_the_head_file_deleted_is_caught_by_the_catalog(store: Store) -> None:
    _append(store, 4)
    with store.write() as session:
        session.execute(text("DELETE FROM custody_events WHERE seq >= 4"))
    store.settings.custody_head_path.unlink()
    problems = _problems(store)
    assert problems[0].startswith("custody head file is missing")
    assert problems[1].startswith("the catalog's custody head names event #5, which is missing")
    assert len(problems) == 2


def test_deleted_or_rolled_back_catalog_head_is_caught(store: Store) -> None:
    _append(store, 2)
    with store.read() as session:
        older = session.get(CustodyHead, 1)
        assert older is not None and older.seq == 3
        row = (older.seq, older.hash, older.signature)
    _append(store, 2)
    with store.write() as session:
        session.execute(update(CustodyHead).values(seq=row[0], hash=row[1], signature=row[2]))
    assert _problems(store) == [
        "the catalog's custody head names event #3 but the log ends at #5 (the head was "
        "rolled back)"
    ]
    with store.write() as session:
        session.execute(text("DELETE FROM custody_head"))
    assert _problems(store)[0].startswith("the catalog's custody head is missing")


def test_truncated_log_refuses_new_events(store: Store) -> None:
    """An append after deleted events would hide the deletion behind a fresh head."""
    _append(store, 3)
    with store.write() as session:
        session.execute(text("DELETE FROM custody_events WHERE seq = 4"))
    store.settings.custody_head_path.unlink()
    with pytest.raises(CustodyError, match="the catalog's head names #4"):
        store.record("noted", "after", {})
    with store.write() as session:
        session.execute(text("DELETE FROM custody_head"))
    with pytest.raises(CustodyError, match="the catalog has no custody head"):
        store.record("noted", "after", {})


def test_head_file_ahead_of_the_log_refuses_new_events(store: Store) -> None:
    _append(store, 3)
    with store.write() as session:
        session.execute(text("DELETE FROM custody_events WHERE seq = 4"))
        session.execute(text("UPDATE custody_head SET seq = 3, hash = :h"), {"h": _hash(store, 3)})
    with pytest.raises(CustodyError, match=r"custody\.head names #4"):
        store.record("noted", "after", {})


def _hash(store: Store, seq: int) -> str:
    with store.read() as session:
        return session.execute(
            select(CustodyEvent.hash).where(CustodyEvent.seq == seq)
        ).scalar_one()


def test_current_head_is_the_newest_event(store: Store) -> None:
    _append(store, 2)
    with store.read() as session:
        assert current_head(session) == (3, _hash(store, 3))


def test_store_from_before_the_catalog_head_adopts_it(settings: Settings, store: Store) -> None:
    """A catalog migrated to keep the head takes its newest event; verify is then intact."""
    _append(store, 2)
    command.downgrade(database._alembic_config(store.engine), "0003")
    store.close()
    reopened = open_store(settings)
    try:
        assert _problems(reopened) == []
        with reopened.read() as session:
            assert current_head(session) == (3, _hash(reopened, 3))
    finally:
        reopened.close()


def test_passphrase_protected_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    settings = config.resolve(home=tmp_path / "home", actor="tester")
    init_store(settings, "correct horse")[0].close()
    pem = settings.signing_key_path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    with pytest.raises(StoreError, match=f"passphrase-protected; set {PASSPHRASE_ENV}"):
        open_store(settings)
    monkeypatch.setenv(PASSPHRASE_ENV, "wrong")
    with pytest.raises(StoreError, match="wrong passphrase"):
        open_store(settings)
    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    opened = open_store(settings)
    try:
        opened.record("noted", "with the protected key", {})
        assert _problems(opened) == []
    finally:
        opened.close()


def test_key_kept_outside_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = tmp_path / "drive" / "testament.pem"
    monkeypatch.setenv(config.SIGNING_KEY_ENV, str(outside))
    settings = config.resolve(home=tmp_path / "home", actor="tester")
    store, created = init_store(settings)
    store.close()
    assert created and outside.is_file() and (outside.stat().st_mode & 0o777) == 0o600
    assert not (settings.keys_dir / "signing-key.pem").exists()
    assert settings.public_key_path.is_file()
    monkeypatch.delenv(config.SIGNING_KEY_ENV)
    with pytest.raises(StoreError, match="signing key not found"):
        open_store(config.resolve(home=tmp_path / "home", actor="tester"))
    from testament.locker.keys import create_keys

    other = tmp_path / "other.pem"
    create_keys(other, tmp_path / "other.pub.pem")
    monkeypatch.setenv(config.SIGNING_KEY_ENV, str(other))
    with pytest.raises(StoreError, match="is not this store's signing key"):
        open_store(config.resolve(home=tmp_path / "home", actor="tester"))


def test_init_asks_for_a_passphrase(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from testament.cli.main import app

    monkeypatch.delenv(PASSPHRASE_ENV, raising=False)
    home = tmp_path / "home"
    runner = CliRunner()
    made = runner.invoke(
        app, ["init", "--home", str(home), "--passphrase"], input="s3cret\ns3cret\n"
    )
    assert made.exit_code == 0, made.output
    assert "passphrase-protected" in made.output
    locked = runner.invoke(app, ["verify", "--home", str(home)])
    assert locked.exit_code == 2 and PASSPHRASE_ENV in locked.output
    monkeypatch.setenv(PASSPHRASE_ENV, "s3cret")
    assert runner.invoke(app, ["verify", "--home", str(home)]).exit_code == 0
