"""The access audit: who viewed or downloaded an original, and who revealed blurred media.

One row is written per request that sent bytes, so a video player's many range requests
for one viewing are many rows; `collapsed` shows such a run as one line with its count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from testament.accounts.models import AuditEntry

ACTIONS = ("view_original", "download_original", "reveal")


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


@dataclass
class Access:
    """Consecutive audit rows of one person, action, subject and client, read as one line."""

    username: str
    action: str
    subject: str
    client: str | None
    first: datetime
    last: datetime
    count: int = 1
    details: list[dict[str, Any]] = field(default_factory=list)

    def joins(self, entry: AuditEntry, gap: timedelta) -> bool:
        same = (entry.username, entry.action, entry.subject, entry.client) == (
            self.username,
            self.action,
            self.subject,
            self.client,
        )
        return same and self.first - entry.time <= gap


def collapsed(entries: list[AuditEntry], gap: timedelta = SITTING_GAP) -> list[Access]:
    """Newest-first `entries` with each run of alike requests folded into one `Access`."""
    found: list[Access] = []
    for entry in entries:
        if found and found[-1].joins(entry, gap):
            access = found[-1]
            access.first, access.count = entry.time, access.count + 1
        else:
            access = Access(
                entry.username, entry.action, entry.subject, entry.client, entry.time, entry.time
            )
            found.append(access)
        if entry.details and entry.details not in access.details:
            access.details.append(entry.details)
    return found
