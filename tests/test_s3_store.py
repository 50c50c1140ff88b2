"""Object storage keeps the local folder's promises, against a real SeaweedFS server.

Written once under its SHA-256, never overwritten; checksummed on the way up; never
visible half-written, even when the writer is killed; re-hashed by `verify` as a
stream; copied from one store to another, verified and resumable.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from testament import config
from testament.catalog.models import Asset, Capture
from testament.collect.ingest import Ingest, default_steps
from testament.collect.items import Item, Sighting
from testament.locker.blobcopy import copy_blobs
from testament.locker.blobstore import (
    BlobStore,
    BlobStoreError,
    LocalBlobStore,
    local_file,
    open_blob_store,
)
from testament.locker.custody import iter_events
from testament.locker.s3store import MIB, S3BlobStore
from testament.locker.verify import verify_store
from testament.store import Store, init_store, open_store
from tests import web_support as ws
from tests.media import make_image, make_video
from tests.services import SeaweedFS

SRC = Path(__file__).resolve().parents[1] / "src"


def _random_file(path: Path, size: int, seed: int = 7) -> Path:
    """Incompressible bytes, written a chunk at a time (never all in memory)."""
    digest = hashlib.sha256(f"seed-{seed}".encode()).digest()
    with path.open("wb") as out:
        written = 0
        while written < size:
            block = hashlib.shake_256(digest + written.to_bytes(8, "big")).digest(
                min(4 * MIB, size - written)
            )
            out.write(block)
            written += len(block)
    return path


def _sha256_file(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


@pytest.fixture
def s3_env(seaweedfs: SeaweedFS, monkeypatch: pytest.MonkeyPatch) -> SeaweedFS:
    for name, value in seaweedfs.env.items():
        monkeypatch.setenv(name, value)
    return seaweedfs


@pytest.fixture
def s3(seaweedfs: SeaweedFS) -> S3BlobStore:
    """A blob store under a fresh prefix."""
    client, prefix = seaweedfs.client(), seaweedfs.new_prefix()
    store = S3BlobStore(seaweedfs.bucket, prefix, client, endpoint=seaweedfs.endpoint)
    store.create()
    return store


@pytest.fixture(params=["file", "s3"])
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    """The same contract, on the local folder and on object storage."""
    if request.param == "file":
        local = LocalBlobStore(tmp_path / "blobs")
        local.create()
        return local
    return request.getfixturevalue("s3")  # type: ignore[no-any-return]


def _objects(store: S3BlobStore) -> list[str]:
    listing = store.client.list_objects_v2(Bucket=store.bucket, Prefix=store.prefix)
    return [item["Key"] for item in listing.get("Contents", [])]


def _uploads(store: S3BlobStore) -> list[dict]:
    found = store.client.list_multipart_uploads(Bucket=store.bucket, Prefix=store.prefix)
    return list(found.get("Uploads", []))


@pytest.mark.parametrize("size", [0, 5, 20 * MIB + 3], ids=["empty", "small", "multipart"])
def test_put_get_exists_iter(any_store: BlobStore, tmp_path: Path, size: int) -> None:
    source = _random_file(tmp_path / "source", size)
    sha256 = _sha256_file(source)
    with source.open("rb") as handle:
        stored = any_store.put(handle)
    assert stored.created and stored.digests.sha256 == sha256 and stored.digests.size == size
    assert stored.digests.md5 == hashlib.md5(source.read_bytes()).hexdigest()
    assert any_store.exists(sha256) and any_store.size(sha256) == size
    assert list(any_store.iter_sha256()) == [sha256]
    with any_store.open(sha256) as blob:
        assert blob.read() == source.read_bytes()
    with any_store.open(sha256, offset=min(size, 3)) as blob:
        assert blob.read() == source.read_bytes()[3:]
    assert any_store.current_sha256(sha256) == sha256
    assert not any_store.exists("0" * 64) and any_store.size("0" * 64) is None
    with pytest.raises(FileNotFoundError):
        any_store.open("0" * 64)


def test_a_stream_that_cannot_seek_is_stored_whole(s3: S3BlobStore, tmp_path: Path) -> None:
    source = _random_file(tmp_path / "source", 17 * MIB)
    reader = subprocess.Popen(["cat", str(source)], stdout=subprocess.PIPE)
    assert reader.stdout is not None and not reader.stdout.seekable()
    stored = s3.put(reader.stdout)  # type: ignore[arg-type]
    reader.wait()
    assert stored.created and stored.digests.sha256 == _sha256_file(source)
    assert s3.current_sha256(stored.digests.sha256) == stored.digests.sha256


@pytest.mark.parametrize("conditional", [True, False], ids=["if-none-match", "head-check"])
@pytest.mark.parametrize("size", [5, 20 * MIB], ids=["small", "multipart"])
def test_a_stored_blob_is_never_overwritten(
    s3: S3BlobStore, tmp_path: Path, conditional: bool, size: int
) -> None:
    """Stored again, a blob stays the object it was, even one that was later damaged."""
    source = _random_file(tmp_path / "source", size)
    with source.open("rb") as handle:
        sha256 = s3.put(handle).digests.sha256
    key = s3.key(sha256)
    s3.client.put_object(Bucket=s3.bucket, Key=key, Body=b"damaged behind testament's back")
    before = s3.client.head_object(Bucket=s3.bucket, Key=key)["ETag"]
    s3.conditional_writes = conditional
    with source.open("rb") as handle:
        again = s3.put(handle)
    assert not again.created and again.digests.sha256 == sha256
    assert s3.client.head_object(Bucket=s3.bucket, Key=key)["ETag"] == before
    assert s3.current_sha256(sha256) != sha256  # left for verify to report, not hidden
    assert _uploads(s3) == []


def test_seaweedfs_refuses_a_conditional_overwrite(s3: S3BlobStore) -> None:
    """What the conditional path relies on: the server itself answers 412."""
    from botocore.exceptions import ClientError

    sha256 = s3.put(io.BytesIO(b"first")).digests.sha256
    with pytest.raises(ClientError, match="PreconditionFailed"):
        s3.client.put_object(Bucket=s3.bucket, Key=s3.key(sha256), Body=b"x", IfNoneMatch="*")


def test_bytes_that_do_not_hash_to_the_expected_digest_are_refused(
    any_store: BlobStore, tmp_path: Path
) -> None:
    for size in (5, 20 * MIB):
        source = _random_file(tmp_path / f"source-{size}", size)
        with source.open("rb") as handle, pytest.raises(BlobStoreError, match="not the expected"):
            any_store.put(handle, expect="0" * 64)
    assert list(any_store.iter_sha256()) == []


@pytest.mark.parametrize(
    ("size", "operation"), [(5, "PutObject"), (20 * MIB, "UploadPart")], ids=["put", "part"]
)
def test_bytes_altered_on_the_way_up_are_refused_by_the_store(
    s3: S3BlobStore, tmp_path: Path, size: int, operation: str
) -> None:
    """The body changed after testament hashed it: the SHA-256 header makes the server refuse."""

    def alter(request, **_kwargs) -> None:
        body = request.data if isinstance(request.data, bytes) else request.data.read()
        request.data = bytes([body[0] ^ 1]) + body[1:]

    s3.client.meta.events.register(f"before-sign.s3.{operation}", alter)
    source = _random_file(tmp_path / "source", size)
    with source.open("rb") as handle, pytest.raises(BlobStoreError, match="BadDigest"):
        s3.put(handle)
    assert _objects(s3) == [] and _uploads(s3) == []


def test_decoders_get_a_checked_temporary_copy(s3: S3BlobStore, tmp_path: Path) -> None:
    image = make_image(tmp_path / "still.png", seed=5)
    with image.open("rb") as handle:
        sha256 = s3.put(handle).digests.sha256
    with local_file(s3, sha256) as copy:
        assert copy.read_bytes() == image.read_bytes()
    assert not copy.exists()  # deleted once the block ends
    s3.client.put_object(Bucket=s3.bucket, Key=s3.key(sha256), Body=b"swapped")
    swapped = f"blob {sha256} in {s3.url}: its bytes now hash"
    with pytest.raises(BlobStoreError, match=swapped), local_file(s3, sha256):
        pass


KILLED_WRITER = """
import sys, time
from testament.locker.s3store import S3BlobStore, make_client
bucket, prefix, endpoint, path = sys.argv[1:]
store = S3BlobStore(bucket, prefix, make_client(endpoint), endpoint=endpoint)

def stall(n):
    print("part sent", flush=True)
    time.sleep(60)  # every upload thread stops here, until the kill

with open(path, "rb") as source:
    store.put(source, stall)
"""


def test_a_writer_killed_mid_upload_leaves_nothing_visible(
    s3: S3BlobStore, seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    source = _random_file(tmp_path / "source", 40 * MIB)
    env = os.environ | seaweedfs.env | {"PYTHONPATH": str(SRC)}
    writer = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, s3.bucket, s3.prefix, seaweedfs.endpoint, source],
        stdout=subprocess.PIPE,
        env=env,
    )
    assert writer.stdout is not None
    assert writer.stdout.readline() == b"part sent\n"
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    sha256 = _sha256_file(source)
    assert not s3.exists(sha256) and list(s3.iter_sha256()) == [] and _objects(s3) == []
    assert len(_uploads(s3)) == 1  # its parts, never an object
    assert s3.remove_abandoned_parts() == 0  # young: its writer may still be at work
    assert s3.remove_abandoned_parts(older_than=timedelta(0)) == 1
    assert _uploads(s3) == []
    with source.open("rb") as handle:
        assert s3.put(handle).created  # written whole the next time


def test_rehashing_a_large_object_streams_in_bounded_memory(
    s3: S3BlobStore, tmp_path: Path
) -> None:
    size = 96 * MIB
    source = _random_file(tmp_path / "source", size)
    sha256 = _sha256_file(source)
    tracemalloc.start()
    try:
        with source.open("rb") as handle:
            s3.put(handle)
        _, upload_peak = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        assert s3.current_sha256(sha256) == sha256
        _, verify_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert upload_peak < 80 * MIB, f"upload held {upload_peak / MIB:.0f} MiB"
    assert verify_peak < 24 * MIB, f"re-hash held {verify_peak / MIB:.0f} MiB"


def _s3_settings(tmp_path: Path, database_url: str, blob_url: str) -> config.Settings:
    return config.resolve(
        home=tmp_path / "home", database_url=database_url, blob_url=blob_url, actor="tester"
    )


@pytest.fixture
def s3_store(s3_env: SeaweedFS, tmp_path: Path, database_url: str) -> Iterator[Store]:
    store, _ = init_store(_s3_settings(tmp_path, database_url, s3_env.new_url()))
    yield store
    store.close()


def _ingest(store: Store, *paths: Path) -> list[str]:
    items = [Item(p.name, Sighting(method="files", filename=p.name), path=p) for p in paths]
    summary = Ingest(store, steps=default_steps(store)).run(items)
    return [r.sha256 for r in summary.results if r.sha256]


def test_verify_rehashes_from_object_storage_and_finds_changes(
    s3_store: Store, tmp_path: Path
) -> None:
    assert isinstance(s3_store.blobs, S3BlobStore)
    blobs = s3_store.blobs
    image = make_image(tmp_path / "still.png", seed=2)
    video = make_video(tmp_path / "clip.mp4", seconds=2, seed=4)
    changed, gone = _ingest(s3_store, image, video)
    report = verify_store(s3_store)
    assert report.intact, report.problems
    assert report.blobs_checked == 2 and report.derivatives_checked > 0
    assert report.bytes_checked > image.stat().st_size + video.stat().st_size
    blobs.client.put_object(Bucket=blobs.bucket, Key=blobs.key(changed), Body=b"edited")
    blobs.client.delete_object(Bucket=blobs.bucket, Key=blobs.key(gone))
    report = verify_store(s3_store)
    assert report.problems == [
        f"blob {changed}: content changed (its bytes now hash to "
        f"{hashlib.sha256(b'edited').hexdigest()})",
        f"blob {gone}: missing from the blob store",
    ]


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _runner(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> Callable[..., Ran]:
    """`testament ...` in this process, with `env` as its environment."""
    from testament.cli.main import app

    for name, value in env.items():
        monkeypatch.setenv(name, value)

    def run(*args: str) -> Ran:
        result = CliRunner().invoke(app, list(args), catch_exceptions=False)
        return Ran(result.exit_code, result.stdout, result.stderr)

    return run


def test_the_whole_store_runs_on_object_storage(
    s3_env: SeaweedFS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """init, ingest, verify, match and package with TESTAMENT_BLOB_URL=s3://…

    On SQLite only: the catalog's engines are tested everywhere else; this is the blobs.
    """
    url = s3_env.new_url("evidence")
    env = s3_env.env | {
        config.HOME_ENV: str(tmp_path / "home"),
        config.DATABASE_ENV: f"sqlite:///{tmp_path / 'home' / 'catalog.sqlite'}",
        config.BLOBS_ENV: url,
    }
    _run = _runner(monkeypatch, env)
    folder = tmp_path / "exports"
    folder.mkdir()
    make_video(folder / "clip.mp4", seconds=3, seed=6)
    make_image(folder / "still.png", seed=8)
    init = _run("init")
    assert init.returncode == 0, init.stderr
    assert f"blobs:       {url}" in init.stdout
    ingest = _run("ingest", str(folder))
    assert ingest.returncode == 0, ingest.stderr
    verify = _run("verify", "--json")
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["blobs_checked"] == 2
    assert (tmp_path / "home" / "blobs").exists() is False  # nothing went to a local folder
    clip = make_video(tmp_path / "query.mp4", seconds=2, seed=6)
    frame = make_image(tmp_path / "frame.png", seed=6, width=320, height=180)
    for query in (clip, frame):  # a still is re-checked on the stored video's frames
        match = _run("match", str(query), "--json")
        assert match.returncode == 0, match.stderr
        assert json.loads(match.stdout)["matches"], match.stdout
    assets = json.loads(_run("assets", "--json").stdout)
    out = tmp_path / "package.zip"
    package = _run("export", "assets", *[a["sha256"][:12] for a in assets], "--out", str(out))
    assert package.returncode == 0, package.stderr
    checked = _run("verify-package", str(out))
    assert checked.returncode == 0 and "intact" in checked.stdout, checked.stdout


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the bytes, not the catalog
def test_an_original_in_object_storage_is_served_by_ranges_and_audited(
    s3_store: Store, tmp_path: Path
) -> None:
    from testament.accounts import audit

    video = ws.small_video(s3_store, tmp_path)
    data = (tmp_path / "clip.mp4").read_bytes()
    ws.make_user(s3_store, "root", "admin")
    browser = ws.client(s3_store)
    ws.login(browser, "root")
    url = f"/assets/{video}/original"
    whole = browser.get(url)
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["content-type"] == "video/mp4"
    assert whole.headers["content-security-policy"].startswith("sandbox;")
    part = browser.get(url, headers={"Range": "bytes=10-20"})
    assert part.status_code == 206 and part.content == data[10:21]
    assert part.headers["content-range"] == f"bytes 10-20/{len(data)}"
    tail = browser.get(url, headers={"Range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == data[-5:]
    assert browser.get(url, headers={"Range": f"bytes={len(data)}-"}).status_code == 416
    download = browser.get(url + "?download=true")
    assert download.headers["content-disposition"] == 'attachment; filename="clip.mp4"'
    assert browser.get(f"/assets/{video}/thumbnail").status_code == 200
    with s3_store.read() as session:
        rows = list(reversed(audit.entries(session)))
    assert [(e.details or {}).get("range") for e in rows] == [None, "bytes=10-20", "bytes=-5", None]


def test_copy_to_object_storage_resumes_and_switches(
    store: Store, s3_env: SeaweedFS, tmp_path: Path
) -> None:
    """A local store copied to a bucket, interrupted in a large blob, resumed, then switched."""
    small = [make_image(tmp_path / f"still-{i}.png", seed=i) for i in range(3)]
    large = _random_file(tmp_path / "large.bin", 20 * MIB)
    shas = _ingest(store, *small, large)
    assert len(shas) == 4
    every = set(store.blobs.iter_sha256())  # the originals and their thumbnails
    url = s3_env.new_url("copied")
    target = open_blob_store(url, s3_env.endpoint)
    sent = 0

    def interrupt(n: int) -> None:  # Ctrl-C once the large blob is half sent
        nonlocal sent
        sent += n
        if sent > 10 * MIB:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_blobs(store, target, interrupt)
    assert isinstance(target, S3BlobStore)
    partly = set(target.iter_sha256())
    assert _sha256_file(large) not in partly and _uploads(target) == []
    resumed = copy_blobs(store, target)
    assert resumed.complete, resumed.problems
    assert resumed.already_there == len(partly)
    assert resumed.copied == len(every) - len(partly)
    assert set(target.iter_sha256()) == every
    assert set(store.blobs.iter_sha256()) == every  # the source is never emptied
    again = copy_blobs(store, target)
    assert (again.copied, again.already_there) == (0, len(every))

    switched = open_store(
        config.resolve(
            home=store.settings.home,
            database_url=store.settings.database_url,
            blob_url=url,
            actor="tester",
        )
    )
    try:
        assert isinstance(switched.blobs, S3BlobStore)
        report = verify_store(switched)
        assert report.intact and report.blobs_checked == 4, report.problems
        with switched.read() as session:
            copies = [e for e in iter_events(session) if e.action == "blobs_copied"]
        # the interrupted run recorded nothing; each finished one is on the record
        assert [json.loads(e.details)["copied"] for e in copies] == [resumed.copied, 0]
        assert json.loads(copies[0].details)["to"] == url
    finally:
        switched.close()


def test_the_copy_command_prints_a_summary_and_how_to_switch(
    cli, store: Store, s3_env: SeaweedFS, tmp_path: Path
) -> None:
    _ingest(store, make_image(tmp_path / "still.png", seed=4))
    url = s3_env.new_url("copied")
    result = cli("blobs", "copy", "--to", url)
    assert result.exit_code == 0, result.output
    assert "2 blobs copied" in result.output  # the image and its thumbnail
    assert "0 blobs already there" in result.output
    assert f"export TESTAMENT_BLOB_URL={url} TESTAMENT_S3_ENDPOINT={s3_env.endpoint}" in (
        result.output.replace("\n", "")
    )
    again = cli("blobs", "copy", "--to", url, "--json")
    assert json.loads(again.output)["already_there"] == 2
    own = cli("blobs", "copy", "--to", store.blobs.url)
    assert own.exit_code == 2 and "own blob store" in own.output


def test_object_storage_settings_and_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seaweedfs: SeaweedFS
) -> None:
    monkeypatch.setenv(config.BLOBS_ENV, "s3://evidence/originals/")
    monkeypatch.setenv(config.S3_ENDPOINT_ENV, "http://127.0.0.1:1")
    settings = config.resolve(home=tmp_path / "home")
    assert settings.blob_url == "s3://evidence/originals/"
    assert settings.s3_endpoint == "http://127.0.0.1:1"
    store = open_blob_store(settings.blob_url, settings.s3_endpoint)
    assert isinstance(store, S3BlobStore)
    assert (store.bucket, store.prefix, store.url) == (
        "evidence",
        "originals",
        settings.blob_url[:-1],
    )
    assert store.key("a" * 64) == f"originals/sha256/aa/aa/{'a' * 64}"
    with pytest.raises(BlobStoreError, match="s3://bucket/prefix"):
        open_blob_store("s3:///no-bucket")
    made = S3BlobStore(f"made-{os.getpid()}", "", seaweedfs.client(), endpoint=seaweedfs.endpoint)
    made.create()  # init makes a missing bucket, and finds it there the next time
    made.create()
    assert made.put(io.BytesIO(b"in a new bucket")).created
    for name, value in seaweedfs.env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "home"))
    monkeypatch.setenv(config.DATABASE_ENV, f"sqlite:///{tmp_path / 'catalog.sqlite'}")
    from testament.cli.main import app

    result = CliRunner().invoke(app, ["init"], catch_exceptions=False)
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "s3://evidence/originals" in lines[0], result.output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_an_ingest_killed_mid_upload_loses_nothing(s3_env: SeaweedFS, tmp_path: Path) -> None:
    """kill -9 while a large original is half sent; verify, ingest again: all there, once."""
    settings = _s3_settings(tmp_path, f"sqlite:///{tmp_path / 'catalog.sqlite'}", s3_env.new_url())
    init_store(settings)[0].close()
    folder = tmp_path / "exports"
    folder.mkdir()
    expected = {_sha256_file(_random_file(folder / "a-large.bin", 40 * MIB, seed=1))}
    for i in range(5):
        (folder / f"small-{i}.txt").write_text(f"note {i}\n")
        expected.add(hashlib.sha256(f"note {i}\n".encode()).hexdigest())
    env = (
        os.environ
        | s3_env.env
        | {
            config.HOME_ENV: str(settings.home),
            config.DATABASE_ENV: settings.database_url,
            config.BLOBS_ENV: settings.blob_url,
            "PYTHONPATH": str(SRC),
        }
    )
    command = [sys.executable, "-m", "testament", "ingest", str(folder)]
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    store = open_store(settings)
    try:
        blobs = store.blobs
        assert isinstance(blobs, S3BlobStore)
        deadline = time.monotonic() + 120
        while not _uploads(blobs):  # the large original is on its way up: kill it now
            assert first.poll() is None and time.monotonic() < deadline, "no upload seen"
            time.sleep(0.02)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        report = verify_store(store)
        assert report.intact, report.problems
        assert _sha256_file(folder / "a-large.bin") not in set(blobs.iter_sha256())
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert again.returncode == 0, again.stderr
        report = verify_store(store)
        assert report.intact and report.warnings == [], (report.problems, report.warnings)
        with store.read() as session:
            assert set(session.execute(select(Asset.sha256)).scalars()) == expected
            captures = session.execute(select(func.count()).select_from(Capture)).scalar_one()
        assert captures == len(expected)  # nothing twice
        assert blobs.remove_abandoned_parts(older_than=timedelta(0)) == 1  # the killed one's
    finally:
        store.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the bytes, not the catalog
def test_a_video_is_copied_from_the_bucket_once_however_often_its_frames_are_read(
    s3_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A still is re-checked at the moment its hashes gave, then at others: one copy."""
    from testament.footage import linking

    (sha256,) = _ingest(s3_store, make_video(tmp_path / "clip.mp4", seconds=3, seed=6))
    copies: list[Path] = []
    copy = linking.local_file

    @contextmanager
    def counted(blobs: BlobStore, sha256: str) -> Iterator[Path]:
        with copy(blobs, sha256) as path:
            copies.append(path)
            yield path

    monkeypatch.setattr(linking, "local_file", counted)
    with s3_store.read() as session, linking.StoredFrames(s3_store, session) as frames:
        video = session.execute(select(Asset.id).where(Asset.sha256 == sha256)).scalar_one()
        first, again = frames(video, [0.5, 1.0]), frames(video, [2.0])
        assert first is not None and len(first) == 2 and again is not None and len(again) == 1
        assert len(copies) == 1 and copies[0].exists()
    assert not copies[0].exists()  # removed when the match is done
