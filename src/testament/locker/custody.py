"""The custody log: an append-only, hash-chained, signed record of every action on evidence.

Each event's hash is SHA-256 over a canonical JSON encoding of its fields, including the
previous event's hash; the store's Ed25519 key signs those same canonical bytes. Anyone
holding the public key can check one event, or the whole chain, without testament.

The catalog holds the events. A small signed "head" file beside the catalog remembers
the newest event this store wrote, so that deleting events from the end of the log is
detected too.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from testament.catalog.database import write_lock
from testament.catalog.models import CustodyEvent
from testament.locker.keys import Signer, signature_valid

GENESIS_HASH = "0" * 64
# Where a session remembers the last event it appended, for the head file after commit.
LAST_APPENDED = "custody_last_appended"


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
        write_lock(session)
        last = session.execute(
            select(CustodyEvent).order_by(CustodyEvent.seq.desc()).limit(1)
        ).scalar_one_or_none()
        event = CustodyEvent(
            seq=1 if last is None else last.seq + 1,
            time=format_time(datetime.now(UTC)),
            actor=actor or self.actor,
            action=action,
            subject=subject,
            details=canonical_json(details or {}),
            prev_hash=GENESIS_HASH if last is None else last.hash,
            key_id=self.signer.key_id,
        )
        payload = signed_bytes(event)
        event.hash = hashlib.sha256(payload).hexdigest()
        event.signature = self.signer.sign(payload)
        session.add(event)
        session.flush()
        session.info[LAST_APPENDED] = (event.seq, event.hash)
        return event

    def write_head(self, seq: int, hash_: str) -> None:
        """Record a committed event as the newest in the signed head file (after commit)."""
        current = read_head(self.head_path)
        if current is not None and current.seq >= seq:
            return
        message = f"{seq}:{hash_}".encode("ascii")
        body = {"seq": seq, "hash": hash_, "signature": self.signer.sign(message)}
        fd, tmp = tempfile.mkstemp(dir=self.head_path.parent, prefix=".custody-head-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(canonical_json(body) + "\n")
        os.replace(tmp, self.head_path)


def read_head(path: Path) -> Head | None:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
        return Head(int(body["seq"]), str(body["hash"]), str(body["signature"]))
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):
        return Head(-1, "", "")


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


def check_chain(
    events: Iterable[CustodyEvent], public: Ed25519PublicKey, head: Head | None
) -> tuple[int, list[ChainProblem]]:
    """Check hashes, links, sequence and signatures of a whole log; name every break."""
    problems: list[ChainProblem] = []
    expected_seq = 1
    prev_hash = GENESIS_HASH
    count = 0
    seen_hashes: dict[str, int] = {}
    for event in events:
        count += 1
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
        seen_hashes[event.hash] = event.seq
        prev_hash = event.hash
        expected_seq = event.seq + 1
    problems.extend(_check_head(head, public, seen_hashes))
    return count, problems


def _check_head(
    head: Head | None, public: Ed25519PublicKey, seen_hashes: dict[str, int]
) -> list[ChainProblem]:
    if head is None:
        return []
    if head.seq < 0:
        return [ChainProblem(None, "custody head file is unreadable")]
    message = f"{head.seq}:{head.hash}".encode("ascii")
    if not signature_valid(public, message, head.signature):
        return [ChainProblem(None, "custody head file has a bad signature")]
    if seen_hashes.get(head.hash) != head.seq:
        return [
            ChainProblem(
                head.seq,
                f"event #{head.seq} recorded as the log's head is missing or changed "
                "(events were deleted from the end of the log)",
            )
        ]
    return []
