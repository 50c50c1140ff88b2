"""Rechecks: a post now answering 404, 410 or "post not found" is a removal; a network
error is not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from testament.locker.custody import iter_events
from testament.store import Store
from testament.watch.models import Alert, Post, Removal
from testament.watch.net import Http
from testament.watch.removal import recheck
from tests.watch_site import Media, Site, serving
from tests.watch_support import media_bytes, run_round, watch_once


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'home' / 'catalog.sqlite'}"


@pytest.fixture
def site() -> Iterator[Site]:
    with serving(Site()) as running:
        yield running


def _collected(store: Store, site: Site) -> None:
    photo = media_bytes(21)[0]
    site.add_file("p.jpg", photo)
    channel = site.channel("gone")
    channel.post("stays")
    channel.post("will be deleted", [Media("photo", "p.jpg", photo)])
    watch_once(store, f"{site.base}/s/gone")


def test_a_deleted_post_is_recorded_once_with_the_time_first_seen_missing(
    store: Store, site: Site, cli
) -> None:
    _collected(store, site)
    site.channels["gone"].messages[1].deleted = True
    before = datetime.now(UTC)
    checks = recheck(store, Http(rate=1000))
    assert [(c.state, c.reason) for c in checks] == [
        ("online", "the post is shown"),
        ("removed", "the page says 'Post not found'"),
    ]
    with store.read() as session:
        removal = session.execute(select(Removal)).scalar_one()
        first_seen = removal.first_seen_missing_at
        assert first_seen >= before
        post = session.get(Post, removal.post_id)
        assert post is not None and post.state == "removed" and post.text == "will be deleted"
        events = [e for e in iter_events(session) if e.action == "post_removed"]
        assert len(events) == 1 and events[0].subject.startswith("asset:")
        assert json.loads(events[0].details)["post_url"] == post.url
        alert = session.execute(select(Alert).where(Alert.kind == "post_removed")).scalar_one()
        assert alert.post_id == post.id
    # Checked again, it is still the first time it was seen missing; no second alert.
    output = cli("recheck").output
    assert "2 posts checked: 1 removed, 0 unreachable" in output
    with store.read() as session:
        removal = session.execute(select(Removal)).scalar_one()
        assert removal.first_seen_missing_at == first_seen
        assert removal.last_checked_at > first_seen
        kinds = session.execute(select(Alert.kind).where(Alert.kind == "post_removed")).all()
        assert len(kinds) == 1


def test_a_network_error_or_a_server_error_is_not_a_removal(store: Store, site: Site) -> None:
    _collected(store, site)
    site.extra["/gone/1"] = lambda: (503, "busy")
    with serving(Site()) as elsewhere:
        unreachable = elsewhere.base
    with store.write() as session:  # the second post's host no longer answers
        session.execute(
            update(Post).where(Post.post_key == "2").values(url=f"{unreachable}/gone/2")
        )
    checks = recheck(store, Http(rate=1000, timeout=(2.0, 2.0)))
    assert [c.state for c in checks] == ["unreachable", "unreachable"]
    assert "connection refused" in checks[1].reason
    with store.read() as session:
        assert session.execute(select(Removal)).first() is None
        assert {p.state for p in session.execute(select(Post)).scalars()} == {"online"}


def test_404_and_410_are_removals_and_older_than_picks_the_posts(store: Store, site: Site) -> None:
    _collected(store, site)
    site.extra["/gone/1"] = lambda: (410, "gone")
    site.extra["/gone/2"] = lambda: (404, "no such post")
    assert recheck(store, Http(rate=1000), older_than=timedelta(days=7)) == []
    with store.write() as session:
        session.execute(update(Post).values(found_at=datetime.now(UTC) - timedelta(days=8)))
    checks = recheck(store, Http(rate=1000), older_than=timedelta(days=7))
    assert [(c.state, c.status) for c in checks] == [("removed", 410), ("removed", 404)]


def test_the_watcher_rechecks_young_posts(
    store: Store, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TESTAMENT_WATCH_RECHECK_EVERY", "1s")
    _collected(store, site)
    site.channels["gone"].messages[1].deleted = True
    with store.write() as session:
        session.execute(update(Post).values(found_at=datetime.now(UTC) - timedelta(seconds=5)))
    done = run_round(store)
    assert done.removed == 1 and done.outcomes == []  # nothing due; young posts rechecked
