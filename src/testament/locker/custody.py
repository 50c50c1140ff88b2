"""The custody log: an append-only, hash-chained, signed record of every action on evidence.

Each event's hash is SHA-256 over a canonical JSON encoding of its fields, including the
previous event's hash; the store's Ed25519 key signs those same canonical bytes. Anyone
holding the public key can check one event, or the whole chain, without testament.

The catalog holds the events. The newest event (its seq and hash, signed) is the log's
head, and it is kept twice: in the catalog's `custody_head` row, updated in the same
transaction as each append, and in the `custody.head` file beside the catalog, written
after each commit. Deleting events from the end of the log, or deleting or rolling back
either copy of the head, is caught by the other. `current_head` gives the head for a
person to write down or an evidence package to embed; only such copies held elsewhere
(and RFC 3161 anchors, see `locker/anchors.py`) defend against someone who holds the
signing key and rewrites the whole log.

Many writers (ingests, workers and web processes, on one machine or several, on
PostgreSQL) keep one linear chain: every append happens under the catalog's write lock
(`catalog.database.write_lock`, a transaction-scoped PostgreSQL advisory lock), which is
held from reading the last event until the commit. The catalog's head row is the
authoritative copy; `custody.head` is a per-machine copy, written under a file lock by
each process of that machine after its commits, so on any machine it names an event the
log holds and never leads the catalog (which `verify` checks), though it may lag behind
events written from other machines.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from testament.catalog.database import write_lock
from testament.catalog.models import CustodyEvent, CustodyHead
from testament.locker.keys import Signer, signature_valid

GENESIS_HASH = "0" * 64
# Where a session remembers the last event it appended, for the head file after commit.
LAST_APPENDED = "custody_last_appended"
# Where a transaction keeps the event it appended last, to append the next after it.
_TAIL = "custody_tail"
# Where a transaction keeps the catalog's head row it updates.
_HEAD = "custody_head_row"
HEAD_ROW = 1


class CustodyError(Exception):
    """The log does not end where its recorded head says: refuse to append after it."""


def canonical_json(value: Any) -> str:
    """The one encoding that is hashed and signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def signed_bytes(event: CustodyEvent) -> bytes:
    """The canonical bytes an event's hash and signature cover."""
    body = {
        "seq": event.seq,
        "time": event.time,
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "details": json.loads(event.details),
        "prev_hash": event.prev_hash,
    }
    return canonical_json(body).encode("utf-8")


def event_hash(event: CustodyEvent) -> str:
    return hashlib.sha256(signed_bytes(event)).hexdigest()


def event_as_dict(event: CustodyEvent) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "time": event.time,
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "details": json.loads(event.details),
        "prev_hash": event.prev_hash,
        "hash": event.hash,
        "signature": event.signature,
        "key_id": event.key_id,
    }


@dataclass(frozen=True)
class Head:
    seq: int
    hash: str
    signature: str


def head_message(seq: int, hash_: str) -> bytes:
    """What a head's signature covers, and what an RFC 3161 anchor timestamps."""
    return f"{seq}:{hash_}".encode("ascii")


class CustodyLog:
    """Appends events to the catalog's custody table inside the caller's transaction."""

    def __init__(self, signer: Signer, actor: str, head_path: Path) -> None:
        self.signer = signer
        self.actor = actor
        self.head_path = head_path

    def append(
        self,
        session: Session,
        action: str,
        subject: str,
        details: dict[str, Any] | None = None,
        actor: str | None = None,
    ) -> CustodyEvent:
        """Add one event; it becomes durable when the caller's transaction commits."""
        seq, prev_hash = self._tail(session)
        event = CustodyEvent(
            seq=seq + 1,
            time=format_time(datetime.now(UTC)),
            actor=actor or self.actor,
            action=action,
            subject=subject,
            details=canonical_json(details or {}),
            prev_hash=prev_hash,
            key_id=self.signer.key_id,
        )
        payload = signed_bytes(event)
        event.hash = hashlib.sha256(payload).hexdigest()
        event.signature = self.signer.sign(payload)
        # Not flushed here: the events of a transaction go to the catalog together, in
        # the order appended, with one update of the head row (at the next query or the
        # commit), instead of a round trip each while the write lock is held.
        session.add(event)
        self._set_catalog_head(session, event.seq, event.hash)
        session.info[LAST_APPENDED] = (event.seq, event.hash)
        session.info[_TAIL] = (session.get_transaction(), event.seq, event.hash)
        return event

    def _tail(self, session: Session) -> tuple[int, str]:
        """The (seq, hash) to append after, checked once per transaction.

        The first append of a transaction takes the write lock (the PostgreSQL advisory
        lock, which every writer on every machine takes before appending), reads the last
        event and checks it against both heads; later appends in the same transaction,
        still under that lock, follow the event appended before them. A batch of items
        thus costs one look-up, not one per event.
        """
        cached = session.info.get(_TAIL)
        if cached is not None and cached[0] is session.get_transaction():
            return cached[1], cached[2]
        write_lock(session)
        last = session.execute(
            select(CustodyEvent).order_by(CustodyEvent.seq.desc()).limit(1)
        ).scalar_one_or_none()
        self._refuse_after_truncation(session, last)
        return (0, GENESIS_HASH) if last is None else (last.seq, last.hash)

    def _refuse_after_truncation(self, session: Session, last: CustodyEvent | None) -> None:
        """Appending after deleted events would hide the deletion behind a new head."""
        recorded = session.get(CustodyHead, HEAD_ROW)
        last_seq = 0 if last is None else last.seq
        if last is not None and recorded is None:
            raise CustodyError(
                f"the catalog has no custody head although the log reaches event #{last_seq} "
                "(the head was deleted); run 'testament verify'"
            )
        if recorded is not None and (
            last is None or (recorded.seq, recorded.hash) != (last.seq, last.hash)
        ):
            raise CustodyError(
                f"the custody log ends at event #{last_seq} but the catalog's head names "
                f"#{recorded.seq} (events deleted, or the catalog rolled back); "
                "run 'testament verify'"
            )
        on_file = read_head(self.head_path)
        if on_file is not None and on_file.seq > last_seq:
            raise CustodyError(
                f"the custody log ends at event #{last_seq} but {self.head_path.name} names "
                f"#{on_file.seq} (events deleted, or the catalog restored from an older copy); "
                "run 'testament verify'"
            )

    def _set_catalog_head(self, session: Session, seq: int, hash_: str) -> None:
        head = _head_row(session)
        head.seq, head.hash = seq, hash_
        head.signature = self.signer.sign(head_message(seq, hash_))

    def adopt_head(self, session: Session) -> None:
        """Record the newest event as the catalog's head where none is kept yet.

        Only for a store whose catalog was just upgraded to keep the head: everywhere
        else a missing head is a problem that `verify` names, never one to paper over.
        """
        write_lock(session)
        last = session.execute(
            select(CustodyEvent).order_by(CustodyEvent.seq.desc()).limit(1)
        ).scalar_one_or_none()
        if last is not None and session.get(CustodyHead, HEAD_ROW) is None:
            self._set_catalog_head(session, last.seq, last.hash)

    def write_head(self, seq: int, hash_: str) -> None:
        """Record a committed event as the newest in the signed head file (after commit)."""
        body = {"seq": seq, "hash": hash_, "signature": self.signer.sign(head_message(seq, hash_))}
        # Several processes of one machine commit in turn but write the file after their
        # commits, in any order: under the lock, a later event is never replaced by an
        # earlier one.
        with _head_lock(self.head_path):
            current = read_head(self.head_path)
            if current is not None and current.seq >= seq:
                return
            fd, tmp = tempfile.mkstemp(dir=self.head_path.parent, prefix=".custody-head-")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(canonical_json(body) + "\n")
            os.replace(tmp, self.head_path)


def _head_row(session: Session) -> CustodyHead:
    """The catalog's head row, held for the rest of the transaction.

    A session holds a flushed row only weakly: fetched again for each event, a batch
    paid a flush and a SELECT per event.
    """
    transaction = session.get_transaction()
    cached = session.info.get(_HEAD)
    if cached is not None and cached[0] is transaction:
        return cached[1]
    head = session.get(CustodyHead, HEAD_ROW)
    if head is None:
        head = CustodyHead(id=HEAD_ROW)
        session.add(head)
    session.info[_HEAD] = (transaction, head)
    return head


@contextmanager
def _head_lock(head_path: Path) -> Iterator[None]:
    with head_path.with_name(f".{head_path.name}.lock").open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_head(path: Path) -> Head | None:
    """The head file, None where it is missing, or seq -1 where it cannot be read."""
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return Head(int(body["seq"]), str(body["hash"]), str(body["signature"]))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return Head(-1, "", "")


def read_catalog_head(session: Session) -> Head | None:
    row = session.get(CustodyHead, HEAD_ROW)
    return None if row is None else Head(row.seq, row.hash, row.signature)


def current_head(session: Session) -> tuple[int, str]:
    """The log's head as the catalog records it: (seq, hash) of the newest event.

    Write it down, print it, or embed it in a package: a later `verify` that shows an
    earlier head, or a different hash for that seq, means the log was rewritten. A store
    with no events (never the case after `init`) gives (0, the genesis hash).
    """
    head = read_catalog_head(session)
    return (0, GENESIS_HASH) if head is None else (head.seq, head.hash)


def iter_events(session: Session, subject_prefix: str | None = None) -> Iterator[CustodyEvent]:
    query = select(CustodyEvent).order_by(CustodyEvent.seq)
    if subject_prefix:
        query = query.where(CustodyEvent.subject.startswith(subject_prefix))
    yield from session.execute(query.execution_options(yield_per=1000)).scalars()


def count_events(session: Session) -> int:
    return session.execute(select(func.count()).select_from(CustodyEvent)).scalar_one()


@dataclass(frozen=True)
class ChainProblem:
    seq: int | None
    message: str


@dataclass
class Chain:
    """What checking the whole log found: its events' hashes by seq, and every break."""

    count: int = 0
    hashes: dict[int, str] = field(default_factory=dict)
    problems: list[ChainProblem] = field(default_factory=list)

    @property
    def last(self) -> tuple[int, str] | None:
        if not self.hashes:
            return None
        seq = max(self.hashes)
        return seq, self.hashes[seq]


def check_chain(events: Iterable[CustodyEvent], public: Ed25519PublicKey) -> Chain:
    """Check hashes, links, sequence and signatures of a whole log; name every break."""
    chain = Chain()
    problems = chain.problems
    expected_seq = 1
    prev_hash = GENESIS_HASH
    for event in events:
        chain.count += 1
        if event.seq != expected_seq:
            gap = "missing" if event.seq > expected_seq else "out of order or duplicated"
            problems.append(
                ChainProblem(
                    event.seq, f"event #{event.seq} follows #{expected_seq - 1}: events {gap}"
                )
            )
        try:
            recomputed = event_hash(event)
        except (ValueError, TypeError):
            problems.append(ChainProblem(event.seq, f"event #{event.seq}: details are not JSON"))
            recomputed = ""
        if recomputed != event.hash:
            problems.append(
                ChainProblem(
                    event.seq,
                    f"event #{event.seq}: content does not match its hash "
                    "(edited after it was written)",
                )
            )
        if event.prev_hash != prev_hash:
            problems.append(
                ChainProblem(
                    event.seq,
                    f"event #{event.seq}: does not link to the event before "
                    "it (an event was deleted, inserted or reordered)",
                )
            )
        if recomputed and not signature_valid(public, signed_bytes(event), event.signature):
            problems.append(ChainProblem(event.seq, f"event #{event.seq}: bad signature"))
        chain.hashes[event.seq] = event.hash
        prev_hash = event.hash
        expected_seq = event.seq + 1
    return chain


def check_heads(
    chain: Chain, public: Ed25519PublicKey, on_file: Head | None, in_catalog: Head | None
) -> list[ChainProblem]:
    """Both copies of the head must exist, be signed, and name events of this log.

    The catalog's copy moves with every append, so it names the very last event; the
    file is written after each commit and may lag behind, but never lead.
    """
    if chain.last is None:
        return []
    problems = _check_head("custody head file", on_file, public, chain)
    catalog_problems = _check_head("the catalog's custody head", in_catalog, public, chain)
    problems += catalog_problems
    if in_catalog is not None and in_catalog.seq < chain.last[0] and not catalog_problems:
        problems.append(
            ChainProblem(
                in_catalog.seq,
                f"the catalog's custody head names event #{in_catalog.seq} but the log "
                f"ends at #{chain.last[0]} (the head was rolled back)",
            )
        )
    return problems


def _check_head(
    name: str, head: Head | None, public: Ed25519PublicKey, chain: Chain
) -> list[ChainProblem]:
    if head is None:
        return [
            ChainProblem(
                None, f"{name} is missing (it proves that no events were deleted from the end)"
            )
        ]
    if head.seq < 0:
        return [ChainProblem(None, f"{name} is unreadable")]
    if not signature_valid(public, head_message(head.seq, head.hash), head.signature):
        return [ChainProblem(None, f"{name} has a bad signature")]
    if chain.hashes.get(head.seq) != head.hash:
        return [
            ChainProblem(
                head.seq,
                f"{name} names event #{head.seq}, which is missing or changed "
                "(events were deleted from the end of the log)",
            )
        ]
    return []
