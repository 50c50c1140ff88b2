"""`verify` on a whole store: fixity of every blob plus the custody chain."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from pathlib import Path

from sqlalchemy import select, text

from testament.catalog.models import CustodyEvent
from testament.collect.files import collect_path
from testament.collect.ingest import Ingest
from testament.collect.items import Sighting
from testament.locker.verify import verify_store
from testament.store import Store
from tests.test_report_timestamps import tsa  # noqa: F401 - the fixture
from tests.test_verify_catalog import _rewrite_event


def _ingest(store: Store, folder: Path, count: int = 3) -> list[str]:
    folder.mkdir(exist_ok=True)
    for i in range(count):
        (folder / f"file{i}.bin").write_bytes(os.urandom(5000 + i))
    summary = Ingest(store).run(collect_path(folder, Sighting(method="file")))
    return [r.sha256 for r in summary.results if r.sha256]


def _make_writable(path: Path) -> None:
    os.chmod(path, 0o644)


def test_intact_store_verifies_and_records_it(store: Store, tmp_path: Path) -> None:
    _ingest(store, tmp_path / "src")
    report = verify_store(store)
    assert report.intact, report.problems
    assert report.blobs_checked == 3 and report.events_checked > 3
    second = verify_store(store)
    assert second.events_checked == report.events_checked + 1  # the first run's 'verified'


def test_changed_byte_in_a_blob_is_named(store: Store, tmp_path: Path) -> None:
    sha = _ingest(store, tmp_path / "src")[1]
    path = store.blobs.path(sha)
    _make_writable(path)
    data = bytearray(path.read_bytes())
    data[100] ^= 0x01
    path.write_bytes(bytes(data))
    report = verify_store(store)
    assert not report.intact
    assert report.problems == [
        f"blob {sha}: content changed (its bytes now hash to {store.blobs.current_sha256(sha)})"
    ]


def test_missing_blob_is_named(store: Store, tmp_path: Path) -> None:
    sha = _ingest(store, tmp_path / "src")[0]
    store.blobs.path(sha).unlink()
    report = verify_store(store)
    assert report.problems == [f"blob {sha}: missing from the blob store"]


def test_uncatalogued_blob_is_a_warning_not_a_failure(store: Store, tmp_path: Path) -> None:
    import io

    stray = store.blobs.put(io.BytesIO(b"written, then the ingest was killed"))
    report = verify_store(store)
    assert report.intact
    assert report.warnings and stray.digests.sha256 in report.warnings[0]


def test_deleted_stored_event_is_named(store: Store, tmp_path: Path) -> None:
    sha = _ingest(store, tmp_path / "src")[0]
    with store.write() as session:
        session.execute(
            text("DELETE FROM custody_events WHERE action = 'stored' AND subject = :s"),
            {"s": f"asset:{sha}"},
        )
    problems = verify_store(store).problems
    assert f"asset {sha[:12]}…: in the catalog with no signed 'stored' event" in problems
    assert any("does not link" in p for p in problems)


def test_verify_command_exit_status_and_json(cli, store: Store, tmp_path: Path) -> None:
    sha = _ingest(store, tmp_path / "src")[0]
    ok = cli("verify", "--json")
    assert ok.exit_code == 0
    assert json.loads(ok.stdout)["intact"] is True
    path = store.blobs.path(sha)
    _make_writable(path)
    path.write_bytes(b"replaced")
    bad = cli("verify")
    assert bad.exit_code == 1
    assert f"blob {sha}: content changed" in bad.stderr


def test_verify_prints_the_head_and_checks_one_written_down(
    cli, store: Store, tmp_path: Path
) -> None:
    _ingest(store, tmp_path / "src", count=1)
    first = cli("verify")
    assert first.exit_code == 0
    head = next(line for line in first.stdout.splitlines() if line.startswith("custody head: "))
    seq, hash_ = head.removeprefix("custody head: ").split(":")
    assert cli("verify", "--head", f"{seq}:{hash_}").exit_code == 0
    # Whoever holds the key can rewrite the log consistently; the written-down head shows it.
    _rewrite_event(
        store, int(seq), lambda event: setattr(event, "time", "2020-01-01T00:00:00.000000Z")
    )
    assert cli("verify").exit_code == 0
    caught = cli("verify", "--head", f"{seq}:{hash_}")
    assert caught.exit_code == 1
    assert f"event #{seq}: the head written down as {seq}:{hash_[:12]}… is not in" in caught.stderr
    assert cli("verify", "--head", "12:nothex").exit_code == 2


def test_anchor_is_recorded_and_checked(cli, store: Store, tsa, tmp_path: Path) -> None:  # noqa: F811
    url, ca = tsa
    _ingest(store, tmp_path / "src", count=1)
    made = cli("custody", "anchor", "--tsa-url", url, "--tsa-ca", str(ca))
    assert made.exit_code == 0, made.output
    assert "anchored custody head" in made.stdout and "CN=Test TSA" in made.stdout
    with store.read() as session:
        anchored = session.execute(
            select(CustodyEvent).where(CustodyEvent.action == "anchored")
        ).scalar_one()
    details = json.loads(anchored.details)
    assert details["seq"] == anchored.seq - 1
    # The token checks without testament, as docs/security.md says.
    (tmp_path / "head.txt").write_text(f"{details['seq']}:{details['hash']}")
    (tmp_path / "anchor.tsr").write_bytes(base64.b64decode(details["token"]))
    (tmp_path / "authority.pem").write_text(details["certificates"])
    openssl = subprocess.run(
        ["openssl", "ts", "-verify", "-data", "head.txt", "-in", "anchor.tsr",
         "-CAfile", "authority.pem"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "Verification: OK" in openssl.stdout, openssl.stderr
    ok = cli("verify")
    assert ok.exit_code == 0, ok.output
    _rewrite_event(store, 1, lambda event: setattr(event, "time", "2020-01-01T00:00:00.000000Z"))
    broken = cli("verify")
    assert broken.exit_code == 1
    assert (
        f"anchor (event #{anchored.seq}): the timestamped head #{details['seq']} "
        f"{details['hash'][:12]}… is not in the log"
    ) in broken.stderr
    missing = cli("custody", "anchor")
    assert missing.exit_code == 2 and "needs --tsa-url and --tsa-ca" in missing.output


def test_truncated_log_is_named_and_the_run_not_hidden_behind_it(
    store: Store, tmp_path: Path
) -> None:
    _ingest(store, tmp_path / "src", count=1)
    with store.write() as session:
        last = session.execute(text("SELECT max(seq) FROM custody_events")).scalar_one()
        session.execute(text("DELETE FROM custody_events WHERE seq = :s"), {"s": last})
    store.settings.custody_head_path.unlink()
    report = verify_store(store)
    assert report.problems[:2] == [
        "custody head file is missing (it proves that no events were deleted from the end)",
        f"the catalog's custody head names event #{last}, which is missing or changed "
        "(events were deleted from the end of the log)",
    ]
    assert report.warnings[-1].startswith("this run is not recorded in the log: ")
    assert verify_store(store).problems[:2] == report.problems[:2]  # still named next time
