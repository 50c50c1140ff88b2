"""Which worker captures a page now: a claim row per capture, that one worker only inserts.

Delivery is at least once: two workers may be handed the same page's task, even at the
same instant. Before visiting a page a worker inserts its claim, keyed by the capture id,
so the database lets one of them in; the other waits until that claim is gone (released,
run out, or held by a process on this host that no longer runs), then looks again whether
the page still needs capturing: normally it was captured meanwhile, and nothing is done
twice. A claim covers one visit, which is bounded (the navigation timeout, the settle
wait, the files), so it runs out on its own after `HOLD`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError

from testament.store import Store
from testament.watch.lease import new_owner, owner_gone
from testament.watch.page_records import PageClaim

HOLD = timedelta(minutes=5)
POLL_S = 0.2  # how often a worker waiting on another's claim looks again


def claim(store: Store, capture_id: int, owner: str) -> bool:
    """Take the page's claim: insert it, or take over one that ran out or whose owner is
    gone; True if `owner` holds it now."""
    now = datetime.now(UTC)
    try:
        with store.write() as session:
            holder = session.execute(
                select(PageClaim.owner).where(PageClaim.capture_id == capture_id)
            ).scalar_one_or_none()
            if holder is None:
                session.add(PageClaim(capture_id=capture_id, owner=owner, claimed_until=now + HOLD))
                return True
            free = PageClaim.claimed_until < now
            if owner_gone(holder):
                free = or_(free, PageClaim.owner == holder)
            taken = session.execute(
                update(PageClaim)
                .where(PageClaim.capture_id == capture_id, free)
                .values(owner=owner, claimed_until=now + HOLD)
                .execution_options(synchronize_session=False)
            )
            return taken.rowcount == 1
    except IntegrityError:  # another worker inserted it first
        return False


def release(store: Store, capture_ids: Sequence[int], owner: str) -> None:
    if not capture_ids:
        return
    with store.write() as session:
        session.execute(
            delete(PageClaim)
            .where(PageClaim.capture_id.in_(list(capture_ids)), PageClaim.owner == owner)
            .execution_options(synchronize_session=False)
        )


def _held(store: Store, capture_ids: Sequence[int]) -> bool:
    """Whether another live worker still holds a claim on one of these pages."""
    now = datetime.now(UTC)
    with store.read() as session:
        rows = session.execute(
            select(PageClaim.owner, PageClaim.claimed_until).where(
                PageClaim.capture_id.in_(list(capture_ids))
            )
        ).all()
    return any(until > now and not owner_gone(holder) for holder, until in rows)


def wait_released(store: Store, capture_ids: Sequence[int]) -> None:
    """Until no live worker holds a claim on these pages (at most `HOLD`)."""
    while _held(store, capture_ids):
        time.sleep(POLL_S)


def capture_once(
    store: Store, due: Callable[[], list[int]], capture: Callable[[list[int]], None]
) -> None:
    """Call `capture` with the pages (capture ids) that are `due` and that this worker
    claimed; wait for those another worker is capturing, and take up any it left due.

    Each page is handed to `capture` at most once here; `due` is asked again after each
    claim, so a page captured meanwhile is not captured twice.
    """
    owner = new_owner()
    tried: set[int] = set()
    while pending := [i for i in due() if i not in tried]:
        mine = [i for i in pending if claim(store, i, owner)]
        tried.update(mine)
        try:
            still = set(due())
            todo = [i for i in mine if i in still]
            if todo:
                capture(todo)
        finally:
            release(store, mine, owner)
        others = [i for i in pending if i not in mine]
        if others:
            wait_released(store, others)
