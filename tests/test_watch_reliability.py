"""Reliability: killed watchers lose nothing and repeat nothing, two watchers share a store,
failing sources back off while the others carry on, and requests are rate-limited."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from testament import config
from testament.catalog.models import Capture
from testament.store import Store, init_store, open_store
from testament.watch.lease import claim, new_owner, release
from testament.watch.models import Alert, Post, PostCapture, Source
from testament.watch.net import RATE_ENV, HostLimiter, Http, rate_from_env
from testament.watch.notify import Notifier
from testament.watch.poller import Watcher
from testament.watch.sources import add_source
from tests.conftest import _postgres_database
from tests.watch_site import Media, Site, serving
from tests.watch_support import due_now, media_bytes, run_round, scheduler


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'home' / 'catalog.sqlite'}"


@pytest.fixture
def site() -> Iterator[Site]:
    with serving(Site()) as running:
        yield running


def _photo_channel(site: Site, name: str, count: int, first_seed: int = 1) -> None:
    channel = site.channel(name)
    for n in range(count):
        photo = media_bytes(first_seed + n)[0]
        file = site.add_file(f"{name}-{n}.jpg", photo)
        channel.post(f"{name} post {n}", [Media("photo", file, photo)])


def _assert_each_post_once(store: Store, expected: int) -> None:
    with store.read() as session:
        posts = session.execute(select(Post.source_id, Post.post_key)).all()
        assert len(posts) == expected and len(set(posts)) == expected
        links = session.execute(
            select(PostCapture.post_id, func.count()).group_by(PostCapture.post_id)
        ).all()
        assert len(links) == expected and {n for _, n in links} == {1}
        captures = session.execute(select(func.count(Capture.id))).scalar()
        assert captures == expected  # no capture collected twice
        kinds = session.execute(
            select(Alert.post_id, Alert.kind).where(Alert.post_id.is_not(None))
        ).all()
        assert len(kinds) == expected and {k for _, k in kinds} == {"new_footage"}


def test_a_watcher_killed_at_any_moment_loses_nothing_and_repeats_nothing(
    store: Store, site: Site
) -> None:
    _photo_channel(site, "kills", 20)
    add_source(store, f"{site.base}/s/kills", "telegram")
    env = {
        **os.environ,
        config.HOME_ENV: str(store.settings.home),
        config.DATABASE_ENV: store.settings.database_url,
        config.ACTOR_ENV: "watcher",
        RATE_ENV: "1000",
    }
    command = [sys.executable, "-m", "testament", "watch", "run", "--once"]
    for kill_after in (4, 12):  # posts commit a few at a time (poller.CHUNK_POSTS)
        watcher = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and watcher.poll() is None:
            with store.read() as session:
                if session.execute(select(func.count(Post.id))).scalar_one() >= kill_after:
                    break
            time.sleep(0.02)
        assert watcher.poll() is None, watcher.stderr.read().decode() if watcher.stderr else ""
        watcher.send_signal(signal.SIGKILL)
        watcher.wait()
        with store.read() as session:
            source = session.execute(select(Source)).scalar_one()
            committed = session.execute(select(func.count(Post.id))).scalar_one()
            assert source.cursor == {"last_id": committed} and committed < 20
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, timeout=300)
    assert "source 1:" in done.stdout
    _assert_each_post_once(store, 20)
    with store.read() as session:
        assert session.execute(select(Source.cursor)).scalar_one() == {"last_id": 20}


def test_interrupted_between_the_media_and_the_post_the_next_run_adds_nothing_twice(
    store: Store, site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    _photo_channel(site, "cut", 3, first_seed=40)
    add_source(store, f"{site.base}/s/cut", "telegram")
    original = Watcher._commit

    def cut(self: Watcher, source_id: int, keyed: list) -> list:  # type: ignore[type-arg]
        raise KeyboardInterrupt  # the media of the posts are preserved; the posts are not

    monkeypatch.setattr(Watcher, "_commit", cut)
    with pytest.raises(KeyboardInterrupt):
        run_round(store)
    monkeypatch.setattr(Watcher, "_commit", original)
    with store.read() as session:
        assert session.execute(select(func.count(Capture.id))).scalar() == 3
        assert session.execute(select(func.count(Post.id))).scalar() == 0
    with store.write() as session:  # the killed watcher's lease runs out
        session.execute(update(Source).values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))
    run_round(store)
    _assert_each_post_once(store, 3)  # a post's own capture does not make it "known"


@pytest.fixture
def postgres_store(tmp_path: Path) -> Iterator[Store]:
    for url in _postgres_database():
        settings = config.resolve(home=tmp_path / "pg", database_url=url, actor="tester")
        opened, _ = init_store(settings)
        yield opened
        opened.close()


def test_two_watchers_on_one_postgresql_store_never_collect_a_post_twice(
    postgres_store: Store, site: Site
) -> None:
    for n in range(3):
        _photo_channel(site, f"shared{n}", 5, first_seed=100 + 10 * n)
        add_source(postgres_store, f"{site.base}/s/shared{n}", "telegram")
    second = open_store(postgres_store.settings)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(store: Store) -> None:
        try:
            watcher_scheduler = scheduler(store)
            start.wait()
            watcher_scheduler.poll_due()
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(s,)) for s in (postgres_store, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    second.close()
    assert errors == []
    _assert_each_post_once(postgres_store, 15)


def test_a_watcher_whose_lease_was_taken_over_commits_nothing(
    postgres_store: Store, site: Site
) -> None:
    _photo_channel(site, "over", 2, first_seed=200)
    source = add_source(postgres_store, f"{site.base}/s/over", "telegram").id
    slow, fast = new_owner(), new_owner()
    assert claim(postgres_store, source, slow)
    assert not claim(postgres_store, source, fast)  # held
    with postgres_store.write() as session:  # the slow watcher's lease runs out
        session.execute(update(Source).values(lease_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert claim(postgres_store, source, fast)
    late = Watcher(postgres_store, slow, http=Http(rate=1000), notifier=Notifier()).poll(source)
    assert late.posts == 0
    Watcher(postgres_store, fast, http=Http(rate=1000), notifier=Notifier()).poll(source)
    release(postgres_store, source, fast)
    _assert_each_post_once(postgres_store, 2)


def test_failing_sources_back_off_show_their_error_and_the_others_carry_on(
    store: Store, site: Site, cli
) -> None:
    _photo_channel(site, "healthy", 2, first_seed=300)
    for name, failure in (("limited", "429"), ("redesigned", "layout"), ("slow", "slow")):
        site.channel(name).failure = failure
        add_source(store, f"{site.base}/s/{name}", "telegram")
    add_source(store, f"{site.base}/s/healthy", "telegram")
    watcher = Watcher(
        store, new_owner(), http=Http(rate=1000, timeout=(1.0, 0.5)), notifier=Notifier()
    )
    from testament.watch.scheduler import Scheduler

    Scheduler(store, watcher).poll_due()
    now = datetime.now(UTC)
    with store.read() as session:
        rows = {s.name: s for s in session.execute(select(Source)).scalars()}
    assert rows["healthy"].posts_count == 2 and rows["healthy"].last_error is None
    assert "HTTP 429" in (rows["limited"].last_error or "")
    assert rows["limited"].next_run_at >= now + timedelta(seconds=110)  # Retry-After: 120
    assert "no channel and no messages" in (rows["redesigned"].last_error or "")
    assert "timed out" in (rows["slow"].last_error or "")
    assert {s.failures for n, s in rows.items() if n != "healthy"} == {1}
    listed = {s["name"]: s for s in json.loads(cli("watch", "list", "--json").output)}
    assert "HTTP 429" in listed["limited"]["last_error"]
    assert "failing" in cli("watch", "list").output
    # A second failure doubles the wait and raises no second alert.
    first_wait = rows["redesigned"].next_run_at - rows["redesigned"].last_run_at
    due_now(store, rows["redesigned"].id)
    Scheduler(store, watcher).poll_due()
    with store.read() as session:
        again = session.get(Source, rows["redesigned"].id)
        assert again is not None and again.failures == 2
        assert again.next_run_at - again.last_run_at >= first_wait * 2 - timedelta(seconds=1)
        errors = session.execute(
            select(func.count(Alert.id)).where(Alert.kind == "source_error")
        ).scalar()
        assert errors == 3
    # Fixed, it recovers.
    site.channels["redesigned"].failure = None
    due_now(store, rows["redesigned"].id)
    Scheduler(store, watcher).poll_due()
    with store.read() as session:
        fixed = session.get(Source, rows["redesigned"].id)
        assert fixed is not None and (fixed.failures, fixed.last_error) == (0, None)


def test_requests_to_one_host_are_rate_limited(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(RATE_ENV, raising=False)
    assert rate_from_env() == 1.0  # the default: one request a second to a host
    monkeypatch.setenv(RATE_ENV, "fast")
    with pytest.raises(ValueError, match=RATE_ENV):
        rate_from_env()
    limiter = HostLimiter(rate=20)
    began = time.monotonic()
    for _ in range(5):
        limiter.wait("a.example")
    limiter.wait("b.example")  # another host does not wait for the first
    assert 0.19 <= time.monotonic() - began < 0.5


def test_a_channel_is_polled_at_the_rate_limit(store: Store, site: Site) -> None:
    channel = site.channel("paced")
    for n in range(45):
        channel.post(f"post {n}")
    add_source(store, f"{site.base}/s/paced", "telegram")
    http = Http(rate=10)
    released: list[float] = []
    wait = http.limiter.wait

    def timed_wait(host: str) -> None:
        wait(host)
        released.append(time.monotonic())

    http.limiter.wait = timed_wait  # type: ignore[method-assign]
    watcher = Watcher(store, new_owner(), http=http, notifier=Notifier())
    from testament.watch.scheduler import Scheduler

    Scheduler(store, watcher).poll_due()
    assert len([path for _, path in site.requests if path == "/s/paced"]) == 3
    # When each request was let go, on the client: the server's arrival times also carry
    # the machine's scheduling jitter, which says nothing about the limiter. The limiter
    # stamps its own release a moment before this wrapper does, so a thread pre-empted
    # between the two can shift a stamp by a few milliseconds on a loaded machine.
    assert len(released) == 3
    assert min(b - a for a, b in itertools.pairwise(released)) >= 0.095
