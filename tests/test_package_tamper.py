"""A careful forger edits a package and recomputes every manifest: each edit is still named.

Each tamper below is one that an adversarial probe tried on a real package. After it,
the manifests are made anew with the `bagit` library, as a forger would; before the
signed statement and the cross-checks of records against signed events, six of these
left `verify-package` saying `intact`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import bagit
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from testament import config
from testament.investigate.models import Incident
from testament.locker.custody import signed_bytes
from testament.locker.keys import Signer
from testament.report import statement
from testament.report.packages import build_package
from testament.report.verify_package import ZipLimits, verify_package
from testament.report.verify_package import _event as as_event
from testament.store import init_store
from tests import test_report_timestamps
from tests.system import need_tool
from tests.test_report_packages import make_incident

EVENTS = "data/custody/events.json"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An incident package with derivatives, made once; each test tampers with a copy."""
    root = tmp_path_factory.mktemp("tamper")
    store, _ = init_store(config.resolve(home=root / "home", actor="tester"))
    incident_id, _ = make_incident(store, root)
    with store.read() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        ids = [link.asset_id for link in incident.assets]
    build_package(store, ids, root / "case", incident_id=incident_id, with_derivatives=True)
    store.close()
    yield root / "case"


@pytest.fixture
def copy(made: Path, tmp_path: Path) -> Path:
    target = tmp_path / "case"
    shutil.copytree(made, target)
    return target


def rebag(folder: Path) -> None:
    """What a careful forger does after editing: recompute every manifest."""
    bagit.Bag(str(folder)).save(manifests=True)


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2), encoding="utf-8")


def _events(folder: Path) -> list[dict]:
    return json.loads((folder / EVENTS).read_text())


def _asset_record(folder: Path, media: str) -> Path:
    """The record of the video ("video") or the still ("image")."""
    for path in sorted((folder / "data/records/assets").glob("*.json")):
        if _read(path)["media_type"] == media:
            return path
    raise AssertionError(f"no {media} record")


def _capture_record(folder: Path) -> Path:
    """The still's capture, which has a URL, a channel, a platform and a posting time."""
    for path in sorted((folder / "data/records/captures").glob("*.json")):
        if _read(path)["url"]:
            return path
    raise AssertionError("no capture with a URL")


def _edit(path: Path, **fields: object) -> None:
    _write(path, _read(path) | fields)


def remove_event(folder: Path, action: str) -> str:
    """Drop the first event with `action` from events.json, and its signed files."""
    events = _events(folder)
    gone = next(e for e in events if e["action"] == action)
    events.remove(gone)
    (folder / EVENTS).write_text(json.dumps(events))
    for suffix in (".json", ".sig"):
        (folder / f"data/custody/signed/{gone['seq']:08d}{suffix}").unlink()
    return f"custody event #{gone['seq']}: in the signed statement but missing from {EVENTS}"


def remove_probed_event(folder: Path) -> str:
    return remove_event(folder, "probed")


def remove_collected_event(folder: Path) -> str:
    remove_event(folder, "collected")
    return "no signed 'collected' event for capture"


def asset_field(media: str, name: str, value: object, action: str) -> Callable[[Path], str]:
    def tamper(folder: Path) -> str:
        record = _asset_record(folder, media)
        _edit(record, **{name: value})
        return f"{name} {value!r} differs from the signed '{action}' event"

    tamper.__name__ = f"asset_{name}"
    return tamper


def capture_field(name: str, value: object) -> Callable[[Path], str]:
    def tamper(folder: Path) -> str:
        _edit(_capture_record(folder), **{name: value})
        return f"{name} {value!r} differs from the signed 'collected' event"

    tamper.__name__ = f"capture_{name}"
    return tamper


def replace_original(folder: Path) -> str:
    """Swap the video for other bytes, with a record, a name and hashes to match."""
    record_path = _asset_record(folder, "video")
    record = _read(record_path)
    original = folder / record["package_path"]
    forged = original.read_bytes() + b"\0appended"
    sha256 = hashlib.sha256(forged).hexdigest()
    new_path = f"data/originals/{sha256}{original.suffix}"
    original.unlink()
    (folder / new_path).write_bytes(forged)
    record |= {
        "sha256": sha256,
        "size": len(forged),
        "md5": hashlib.md5(forged).hexdigest(),
        "sha512": hashlib.sha512(forged).hexdigest(),
        "package_path": new_path,
    }
    record_path.unlink()
    _write(folder / f"data/records/assets/{sha256}.json", record)
    return f"asset {sha256}: no signed 'stored' custody event in the package"


def edit_readme(folder: Path) -> str:
    readme = folder / "README.txt"
    readme.write_text(readme.read_text().replace("Confirm", "There is no need to confirm"))
    return "README.txt: changed since the package was signed"


def edit_signing_key_id(folder: Path) -> str:
    info = folder / "bag-info.txt"
    lines = info.read_text().splitlines()
    info.write_text(
        "\n".join("Signing-Key-Id: 0123456789abcdef" if "Signing-Key-Id" in x else x for x in lines)
        + "\n"
    )
    return "bag-info.txt: Signing-Key-Id '0123456789abcdef' is not the signed statement's"


def add_payload_file(folder: Path) -> str:
    (folder / "data/records/correction.json").write_text('{"note": "the video is staged"}')
    return "data/records/correction.json: not in the signed statement (file added after export)"


def add_tag_file(folder: Path) -> str:
    (folder / "ERRATA.txt").write_text("Ignore the custody events.")
    return "ERRATA.txt: not in the signed statement (file added after export)"


def add_tag_manifest(folder: Path) -> str:
    """A manifest of another algorithm, which nothing signs, beside the two signed ones."""
    (folder / "tagmanifest-md5.txt").write_text("d41d8cd98f00b204e9800998ecf8427e  README.txt\n")
    return "tagmanifest-md5.txt: a tag manifest that testament does not write"


def add_capture_record(folder: Path) -> str:
    """A sighting that never happened, listed in the asset's record too."""
    real = _capture_record(folder)
    _write(real.with_name("999.json"), _read(real) | {"id": 999, "url": "https://x.test/1"})
    asset = folder / f"data/records/assets/{_read(real)['sha256']}.json"
    _edit(asset, captures=[*_read(asset)["captures"], 999])
    return "data/records/captures/999.json: no signed 'collected' event for capture 999"


def remove_capture_record(folder: Path) -> str:
    """Drop a sighting, and its id from the asset's record."""
    capture = _capture_record(folder)
    asset = folder / f"data/records/assets/{_read(capture)['sha256']}.json"
    capture.unlink()
    _edit(asset, captures=[c for c in _read(asset)["captures"] if str(c) != capture.stem])
    return f"data/records/captures/{capture.name}: in the signed statement but no longer"


def edit_incident(folder: Path) -> str:
    path = folder / "data/records/incident.json"
    path.write_text(path.read_text().replace("Execution of detainees", "Detainees released"))
    return "data/records/incident.json: changed since the package was signed"


def edit_derivative_params(folder: Path) -> str:
    record_path = _asset_record(folder, "video")
    record = _read(record_path)
    record["derivatives"][0]["params"]["max_size"] = 4096
    _write(record_path, record)
    return "max_size 4096 differs from the signed 'derived' event"


def reorder_events(folder: Path) -> str:
    events = _events(folder)
    events[1], events[2] = events[2], events[1]
    (folder / EVENTS).write_text(json.dumps(events))
    return f"custody event #{events[2]['seq']}: out of order"


def swap_public_key(folder: Path) -> str:
    forged = Ed25519PrivateKey.generate().public_key()
    (folder / "data/custody/public-key.pem").write_bytes(
        forged.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return f"{statement.STATEMENT}: not signed by the key in data/custody/public-key.pem"


def remove_statement(folder: Path) -> str:
    (folder / statement.STATEMENT).unlink()
    (folder / statement.SIGNATURE).unlink()
    return f"{statement.STATEMENT}: missing; nothing signs the package as a whole"


TAMPERS: list[Callable[[Path], str]] = [
    remove_probed_event,
    remove_collected_event,
    asset_field("video", "size", 1, "stored"),
    asset_field("video", "md5", "0" * 32, "stored"),
    asset_field("video", "sha512", "0" * 128, "stored"),
    asset_field("video", "original_filename", "other.mp4", "stored"),
    asset_field("video", "media_type", "image", "probed"),
    capture_field("url", "https://example.org/elsewhere"),
    capture_field("channel", "Another channel"),
    capture_field("posted_at", "2020-11-01T00:00:00Z"),
    capture_field("platform", "twitter"),
    capture_field("collected_by", "someone else"),
    replace_original,
    edit_readme,
    edit_signing_key_id,
    add_payload_file,
    add_tag_file,
    add_tag_manifest,
    add_capture_record,
    remove_capture_record,
    edit_incident,
    edit_derivative_params,
    reorder_events,
    swap_public_key,
    remove_statement,
]


@pytest.mark.parametrize("tamper", TAMPERS, ids=[t.__name__ for t in TAMPERS])
def test_tamper_is_named_after_new_manifests(copy: Path, tamper: Callable[[Path], str]) -> None:
    assert verify_package(copy).problems == []
    expected = tamper(copy)
    rebag(copy)
    found = verify_package(copy).problems
    assert any(expected in problem for problem in found), (expected, found)


def test_forger_who_signs_with_own_key_is_caught_by_the_confirmed_key_id(copy: Path) -> None:
    """A whole package signed afresh by another key is consistent in itself: only the key
    id, confirmed with the sender through another channel, tells it apart."""
    original_key = _read_key_id(copy)
    forger = Signer(Ed25519PrivateKey.generate())
    _resign(copy, forger)
    assert verify_package(copy).problems == []
    found = verify_package(copy, expected_key_id=original_key).problems
    assert found == [
        f"data/custody/public-key.pem: key id {forger.key_id}, not the expected {original_key}"
    ]


def _read_key_id(folder: Path) -> str:
    line = next(x for x in (folder / "bag-info.txt").read_text().splitlines() if "Key-Id" in x)
    return line.split(":", 1)[1].strip()


def _resign(folder: Path, forger: Signer) -> None:
    """Re-sign every event and the statement with `forger`, re-chaining the hashes."""
    pem = forger.public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (folder / "data/custody/public-key.pem").write_bytes(pem)
    events = _events(folder)
    previous: dict | None = None
    for entry in events:
        if entry["action"] == "init":
            entry["details"]["public_key"] = pem.decode()
        if previous is not None and entry["seq"] == previous["seq"] + 1:
            entry["prev_hash"] = previous["hash"]
        payload = signed_bytes(as_event(entry))
        entry["hash"] = hashlib.sha256(payload).hexdigest()
        entry["signature"] = forger.sign(payload)
        entry["key_id"] = forger.key_id
        stem = folder / f"data/custody/signed/{entry['seq']:08d}"
        stem.with_suffix(".json").write_bytes(payload)
        stem.with_suffix(".sig").write_bytes(base64.b64decode(entry["signature"]))
        previous = entry
    (folder / EVENTS).write_text(json.dumps(events))
    info = folder / "bag-info.txt"
    info.write_text(info.read_text().replace(_read_key_id(folder), forger.key_id))
    signed = json.loads((folder / statement.STATEMENT).read_text())
    for name in (statement.STATEMENT, statement.SIGNATURE):
        (folder / name).unlink()
    rebag(folder)
    statement.write_statement(
        folder,
        forger,
        signed["package"],
        signed["created"],
        signed["custody_events"],
        (events[-1]["seq"], events[-1]["hash"]),
    )


def _readme_command(folder: Path, needle: str) -> str:
    lines = (folder / "README.txt").read_text().splitlines()
    return next(x.removeprefix("    $ ") for x in lines if x.startswith("    $ ") and needle in x)


def _bash(folder: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], cwd=folder, capture_output=True, text=True)


def test_readme_openssl_checks_the_statement(copy: Path) -> None:
    need_tool("openssl", "apt-get install openssl")
    verify = _readme_command(copy, f"-in {statement.STATEMENT}")
    assert verify.startswith("openssl pkeyutl -verify -pubin -inkey data/custody/public-key.pem")
    done = _bash(copy, verify)
    assert done.returncode == 0 and "Signature Verified Successfully" in done.stdout, done
    names = _readme_command(copy, "NOT SIGNED")
    assert _bash(copy, names).stdout == ""
    # A forger's new tag manifest is not the one the statement names...
    edit_readme(copy)
    rebag(copy)
    assert "NOT SIGNED: tagmanifest-sha256.txt" in _bash(copy, names).stdout
    # ...and a statement edited to name it no longer carries the store's signature.
    text = (copy / statement.STATEMENT).read_text()
    old = json.loads(text)["tag_manifests"]["tagmanifest-sha256.txt"]
    new = statement.file_digest(copy / "tagmanifest-sha256.txt", "sha256")
    (copy / statement.STATEMENT).write_text(text.replace(old, new))
    assert _bash(copy, names).stdout == ""
    done = _bash(copy, verify)
    assert done.returncode != 0 and "Signature Verified Successfully" not in done.stdout


def _zip_folder(folder: Path, out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, f"case/{path.relative_to(folder).as_posix()}")
    return out


def test_zip_bomb_is_refused_before_unpacking(copy: Path, tmp_path: Path, cli) -> None:
    bomb = tmp_path / "bomb.zip"
    _zip_folder(copy, bomb)
    with zipfile.ZipFile(bomb, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("case/data/originals/zeros.bin", bytes(8 * 1024 * 1024))
    assert bomb.stat().st_size < 1024 * 1024
    result = cli("verify-package", str(bomb))
    assert result.exit_code == 2, result.output
    assert "'case/data/originals/zeros.bin' would expand" in result.output
    assert "refused as a zip bomb" in result.output


def test_zip_over_the_size_cap_or_member_count_is_refused(
    copy: Path, tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = _zip_folder(copy, tmp_path / "case.zip")
    assert verify_package(package).intact
    result = cli("verify-package", str(package), "--max-unpacked-gb", "0.00001")
    assert result.exit_code == 2 and "more than the limit of 10737 " in result.output
    monkeypatch.setenv("TESTAMENT_VERIFY_MAX_BYTES", "5000")
    result = cli("verify-package", str(package))
    assert result.exit_code == 2 and "more than the limit of 5000" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(Exception, match="more than the limit of 3"):
        verify_package(package, limits=ZipLimits(max_members=3))


def test_zip_member_that_lies_about_its_size_is_refused(tmp_path: Path) -> None:
    """zipfile stops at the declared size, so the lie shows as a damaged member."""
    liar = tmp_path / "liar.zip"
    with zipfile.ZipFile(liar, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("case/bagit.txt", "BagIt-Version: 0.97\n")
        archive.writestr("case/data/big.bin", bytes(1024 * 1024))
    data = bytearray(liar.read_bytes())
    declared = (1024 * 1024).to_bytes(4, "little")
    small = (1000).to_bytes(4, "little")
    assert data.count(declared) == 2  # the local header and the central directory
    liar.write_bytes(bytes(data).replace(declared, small))
    with pytest.raises(Exception, match="damaged zip"):
        verify_package(liar)


tsa = test_report_timestamps.tsa


def test_trusted_timestamp_covers_the_statement(cli, store, tsa, tmp_path: Path) -> None:
    url, ca = tsa
    incident_id, _ = make_incident(store, tmp_path)
    out = tmp_path / "case"
    made = cli("export", "incident", str(incident_id), "--out", str(out),
               "--tsa-url", url, "--tsa-ca", str(ca))  # fmt: skip
    assert made.exit_code == 0, made.output
    verified = cli("verify-package", str(out), "--tsa-ca", str(ca))
    assert verified.exit_code == 0, verified.output
    assert f"by CN=Test TSA over {statement.STATEMENT}" in verified.output
    done = _bash(out, _readme_command(out, f"-in {statement.STATEMENT}.tsr -data"))
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr
    (out / f"{statement.STATEMENT}.tsr").unlink()
    broken = cli("verify-package", str(out), "--tsa-ca", str(ca))
    assert broken.exit_code == 1 and f"{statement.STATEMENT}.tsr: missing" in broken.output
