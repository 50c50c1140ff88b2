"""Anchoring the custody head outside the store with RFC 3161 trusted timestamps.

Whoever holds the signing key can rewrite the whole log and both copies of its head
consistently. A timestamp authority's token over the head (`<seq>:<hash>`, the bytes that
the head's signature covers) proves that this event existed with this hash no later than
the token's time; the token and the authority's certificates are kept in an `anchored`
custody event, and `verify` checks that every anchored event is still in the log with
that hash and that its token still verifies. Anyone can check one with
`openssl ts -verify -data head.txt -in anchor.tsr -CAfile authority.pem`.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime

from testament.catalog.models import CustodyEvent
from testament.locker.custody import Chain, current_head, head_message
from testament.report.timestamps import Authority, TimestampError, verify_token
from testament.store import Store

ANCHORED = "anchored"


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    authority: str
    time: datetime
    event_seq: int


def anchor_head(store: Store, authority: Authority) -> Anchor:
    """Timestamp the current head and record the token as an `anchored` event."""
    with store.read() as session:
        seq, hash_ = current_head(session)
    data = head_message(seq, hash_)
    token = authority.request(data)
    info = verify_token(token, data, authority.ca_pem, "the configured authority", "token")
    details = {
        "seq": seq,
        "hash": hash_,
        "authority": info.authority,
        "url": authority.url,
        "time": info.time.isoformat(),
        "token": base64.b64encode(token).decode("ascii"),
        "certificates": authority.ca_pem.decode("ascii"),
    }
    with store.write() as session:
        event = store.custody.append(session, ANCHORED, f"custody:{seq}", details)
    return Anchor(seq, hash_, info.authority, info.time, event.seq)


@dataclass
class Anchors:
    """The anchors recorded in the log, gathered during the pass over it."""

    found: list[tuple[int, str]] = field(default_factory=list)  # (event seq, details)

    def add(self, event: CustodyEvent) -> None:
        if event.action == ANCHORED:
            self.found.append((event.seq, event.details))

    def check(self, chain: Chain) -> list[str]:
        return [problem for seq, details in self.found if (problem := _check(seq, details, chain))]


def _check(event_seq: int, details_text: str, chain: Chain) -> str | None:
    name = f"anchor (event #{event_seq})"
    try:
        details = json.loads(details_text)
        seq, hash_ = int(details["seq"]), str(details["hash"])
        token = base64.b64decode(details["token"], validate=True)
        pem = str(details["certificates"]).encode("ascii")
    except (ValueError, KeyError, TypeError, binascii.Error):
        return f"{name}: not a readable anchor"
    if chain.hashes.get(seq) != hash_:
        return (
            f"{name}: the timestamped head #{seq} {hash_[:12]}… is not in the log "
            "(the log was rewritten since it was anchored)"
        )
    try:
        verify_token(token, head_message(seq, hash_), pem, "its recorded certificates", name)
    except TimestampError as exc:
        return f"{name}: {exc}"
    return None
