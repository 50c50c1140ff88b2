"""The access audit: who viewed or downloaded an original, and who revealed blurred media."""

from __future__ import annotations

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
