"""The access audit: who viewed or downloaded an original, and who revealed blurred media.

One row is written per request that sent bytes, so a video player's many range requests
for one viewing, or the clear previews that one reveal fetches, are many rows; `collapsed`
shows each such sitting as one line with its count, in words rather than stored fields.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.accounts.models import AuditEntry

ACTIONS = ("view_original", "download_original", "reveal", "view_individual", "view_face")


def record(
    session: Session,
    username: str,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
    client: str | None = None,
) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(
        AuditEntry(
            username=username, action=action, subject=subject, details=details, client=client
        )
    )


def entries(session: Session, *, subject: str | None = None, limit: int = 200) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    return list(session.execute(query).scalars())


# Requests by the same person, for the same thing, this close together are one sitting.
SITTING_GAP = timedelta(minutes=10)
# How many parts of a file a line names before it says how many more there were.
SHOWN_RANGES = 3


@dataclass
class Access:
    """One person's requests of one kind for one thing in one sitting, read as one line."""

    username: str
    action: str
    subject: str
    client: str | None
    first: datetime
    last: datetime
    count: int = 1
    details: list[dict[str, Any] | None] = field(default_factory=list)  # oldest first

    @property
    def key(self) -> tuple[str, str, str, str | None]:
        return (self.username, self.action, self.subject, self.client)

    @property
    def described(self) -> list[str]:
        """What was sent, as "what: which" lines a person reads (no stored field names)."""
        return describe(self.action, self.details)


def _key(entry: AuditEntry) -> tuple[str, str, str, str | None]:
    return (entry.username, entry.action, entry.subject, entry.client)


def collapsed(entries: list[AuditEntry], gap: timedelta = SITTING_GAP) -> list[Access]:
    """Newest-first `entries` with each sitting folded into one `Access`, newest first.

    A sitting's requests need not be consecutive: one reveal fetches its clear previews
    while the player is still fetching the original, and the rows interleave.
    """
    found: list[Access] = []
    open_: dict[tuple[str, str, str, str | None], Access] = {}
    for entry in entries:
        access = open_.get(_key(entry))
        if access is not None and access.first - entry.time <= gap:
            access.first, access.count = entry.time, access.count + 1
        else:
            access = Access(*_key(entry), first=entry.time, last=entry.time)
            open_[access.key] = access
            found.append(access)
        access.details.insert(0, entry.details)  # oldest first, as they happened
    return found


def _range(value: str) -> str:
    """An HTTP byte range as words: "bytes=100-" is "from byte 100"."""
    spans = []
    for part in value.removeprefix("bytes=").split(","):
        start, _, end = part.strip().partition("-")
        if not start:
            spans.append(f"the last {end} bytes")
        elif not end:
            spans.append(f"from byte {start}")
        else:
            spans.append(f"bytes {start}–{end}")
    return ", ".join(spans)


def _counted(kinds: Counter[str]) -> str:
    return ", ".join(kind if n == 1 else f"{n} {kind}s" for kind, n in kinds.items())


REVEAL_ORDER = {"the player": 0, "clear thumbnail": 1, "clear keyframe": 2}


def describe(action: str, details: list[dict[str, Any] | None]) -> list[str]:
    """Readable lines for the details of one sitting's rows, oldest first."""
    lines: list[str] = []
    shown = [
        "the player" if d.get("what") == "player" else f"clear {d.get('kind', 'preview')}"
        for d in details
        if d and (d.get("what") or d.get("kind"))
    ]
    revealed = Counter(sorted(shown, key=lambda what: REVEAL_ORDER.get(what, len(REVEAL_ORDER))))
    if revealed:
        lines.append(f"revealed: {_counted(revealed)}")
    if action != "reveal":
        parts = list(
            dict.fromkeys(
                _range(d["range"]) if d and d.get("range") else "the whole file" for d in details
            )
        )
        if parts:
            more = len(parts) - SHOWN_RANGES
            sent = "; ".join(parts[:SHOWN_RANGES]) + (f"; and {more} more" if more > 0 else "")
            lines.append(f"sent: {sent}")
    known = {"what", "kind", "derivative", "range"}
    for key, value in dict.fromkeys(
        (k, str(v)) for d in details if d for k, v in d.items() if k not in known and v is not None
    ):
        lines.append(f"{key.replace('_', ' ')}: {value.replace('_', ' ')}")
    return lines
