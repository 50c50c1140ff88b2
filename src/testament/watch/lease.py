"""Which watcher polls a source: a lease in the catalog, taken with one conditional UPDATE.

The UPDATE succeeds for one watcher only, on SQLite and PostgreSQL alike. A lease runs
out on its own (a watcher that died holds nothing for long), and a watcher on this host
whose process is gone loses its lease at once, so a restarted watcher carries on.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select, update

from testament.store import Store
from testament.watch.models import Source

LEASE = timedelta(minutes=10)


def new_owner() -> str:
    """hostname:pid:random — unique to this watcher, and tells whether it still runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def owner_gone(owner: str | None) -> bool:
    """True when the lease's owner was a process on this host that no longer runs."""
    if not owner:
        return False
    host, _, rest = owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def claim(store: Store, source_id: int, owner: str, *, due_only: bool = True) -> bool:
    """Take the lease of a source that is active (and due); True if this watcher got it."""
    now = datetime.now(UTC)
    with store.write() as session:
        holder = session.execute(
            select(Source.lease_owner).where(Source.id == source_id)
        ).scalar_one_or_none()
        free = or_(Source.lease_until.is_(None), Source.lease_until < now)
        if owner_gone(holder):
            free = or_(free, Source.lease_owner == holder)
        conditions = [Source.id == source_id, Source.status == "active", free]
        if due_only:
            conditions.append(or_(Source.next_run_at.is_(None), Source.next_run_at <= now))
        taken = session.execute(
            update(Source)
            .where(and_(*conditions))
            .values(lease_owner=owner, lease_until=now + LEASE)
            .execution_options(synchronize_session=False)
        )
        return taken.rowcount == 1


def release(store: Store, source_id: int, owner: str) -> None:
    with store.write() as session:
        session.execute(
            update(Source)
            .where(Source.id == source_id, Source.lease_owner == owner)
            .values(lease_owner=None, lease_until=None)
            .execution_options(synchronize_session=False)
        )
