"""Evidence packages: export, independent verification, and every tampering that matters."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import bagit
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from testament import config
from testament.accounts.models import User
from testament.actors.attributions import BasisIn
from testament.catalog.models import Asset
from testament.investigate import incidents as logic
from testament.investigate import taxonomy
from testament.investigate.fields import IncidentFields
from testament.locker.custody import iter_events
from testament.report.packages import build_package
from testament.report.verify_package import verify_package
from testament.store import Store, init_store
from tests import web_support as ws
from tests.actor_support import attribute
from tests.system import need_tool


def make_incident(store: Store, folder: Path) -> tuple[int, list[str]]:
    """An incident supported by a video and a still; returns its id and the assets' sha256."""
    user_id = ws.make_user(store, "ana", "investigator")
    shas = [ws.small_video(store, folder), ws.hostile_image(store, folder)]
    with store.write() as session:
        taxonomy.ensure_defaults(session)
    with store.write() as session:
        user = session.get(User, user_id)
        incident = logic.create(
            session,
            user,
            IncidentFields(
                title="Execution of detainees",
                summary="Two detainees shot.",
                violations=["extrajudicial-execution"],
                event_time="2020-12-09T10:00Z",
                latitude=39.8,
                longitude=46.75,
                location_method="geolocated from footage",
                location_precision="within 1 km",
                victims=[{"count": 2, "status": "prisoner of war"}],
            ),
        )
        for sha in shas:
            asset = session.query(Asset).filter_by(sha256=sha).one()
            logic.link_asset(session, user, incident, asset)
        attribute(
            session, user, incident.id, "Party A", "unverified", [BasisIn("uniform", shas[0])]
        )
        return incident.id, shas


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One incident package as a folder, made once; tests tamper with copies."""
    root = tmp_path_factory.mktemp("package")
    settings = config.resolve(home=root / "home", actor="tester")
    store, _ = init_store(settings)
    incident_id, _ = make_incident(store, root)
    with store.read() as session:
        ids = [link.asset_id for link in logic_incident(session, incident_id).assets]
    out = root / "case"
    build_package(store, ids, out, incident_id=incident_id, with_derivatives=True)
    store.close()
    yield out


def logic_incident(session, incident_id: int):
    from testament.investigate.models import Incident

    return session.get(Incident, incident_id)


@pytest.fixture
def copy(package: Path, tmp_path: Path) -> Path:
    target = tmp_path / "case"
    shutil.copytree(package, target)
    return target


def rebag(folder: Path) -> None:
    """What a careful forger does after editing: recompute every manifest."""
    bagit.Bag(str(folder)).save(manifests=True)


def problems(folder: Path) -> list[str]:
    return verify_package(folder).problems


def test_package_contents_and_intact(package: Path) -> None:
    report = verify_package(package)
    assert report.problems == []
    assert report.assets == 2 and report.events > 6
    originals = sorted((package / "data/originals").iterdir())
    assert len(originals) == 2
    assert list((package / "data/derivatives").rglob("*.jpg"))
    incident = json.loads((package / "data/records/incident.json").read_text())
    assert incident["violation_types"][0]["code"] == "extrajudicial-execution"
    assert [h["kind"] for h in incident["history"]][:2] == ["created", "asset_linked"]
    events = json.loads((package / "data/custody/events.json").read_text())
    assert {e["action"] for e in events} >= {"init", "stored", "collected", "probed", "derived"}
    assert len(list((package / "data/records/captures").glob("*.json"))) == 2
    for name in ("manifest-sha512.txt", "tagmanifest-sha256.txt", "tagmanifest-sha512.txt"):
        assert (package / name).is_file()
    assert "README.txt" in (package / "tagmanifest-sha256.txt").read_text()


def test_signed_statement_names_key_events_head_and_tag_manifests(package: Path) -> None:
    signed = json.loads((package / "package-statement.json").read_text())
    info = dict(line.split(": ", 1) for line in (package / "bag-info.txt").read_text().splitlines())
    events = json.loads((package / "data/custody/events.json").read_text())
    assert signed["key_id"] == info["Signing-Key-Id"]
    assert signed["package"] == info["External-Identifier"]
    assert signed["created"] == info["Bagging-Time"]
    assert signed["custody_events"] == [e["seq"] for e in events]
    # The head is the newest event in the store's log, whatever it is about.
    assert signed["custody_head"]["seq"] >= events[-1]["seq"]
    tag = (package / "tagmanifest-sha256.txt").read_bytes()
    assert signed["tag_manifests"]["tagmanifest-sha256.txt"] == hashlib.sha256(tag).hexdigest()
    assert signed["files"]["README.txt"] in tag.decode()
    assert len((package / "package-statement.sig").read_bytes()) == 64


def test_changed_byte_in_original(copy: Path) -> None:
    original = next((copy / "data/originals").glob("*.mp4"))
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 1
    original.write_bytes(bytes(data))
    found = problems(copy)
    name = f"data/originals/{original.name}"
    assert f"{name}: sha256 does not match the manifest (file changed)" in found
    assert f"{name}: sha256 differs from its record" in found


def test_changed_record_even_with_new_manifests(copy: Path) -> None:
    record = next((copy / "data/records/assets").glob("*.json"))
    record.write_text(record.read_text().replace('"size": ', '"size": 1'))
    assert any(p.startswith(f"data/records/assets/{record.name}: sha256") for p in problems(copy))
    rebag(copy)
    assert any("size differs from its record" in p for p in problems(copy))


def test_removed_and_added_files(copy: Path) -> None:
    capture = next((copy / "data/records/captures").glob("*.json"))
    capture.unlink()
    (copy / "data/originals/extra.txt").write_text("planted")
    (copy / "notes.txt").write_text("planted beside the manifests")
    found = problems(copy)
    rel = f"data/records/captures/{capture.name}"
    assert f"{rel}: listed in a manifest but missing (file removed)" in found
    assert "data/originals/extra.txt: not listed in the manifest (file added)" in found
    assert "data/originals/extra.txt: no record describes this file" in found
    assert "notes.txt: not listed in the tag manifest (file added)" in found


def _edit_events(folder: Path, change) -> None:
    path = folder / "data/custody/events.json"
    events = json.loads(path.read_text())
    change(events)
    path.write_text(json.dumps(events))


def test_edited_event_even_with_new_manifests(copy: Path) -> None:
    def edit(events: list[dict]) -> None:
        stored = next(e for e in events if e["action"] == "stored")
        stored["actor"] = "someone else"

    _edit_events(copy, edit)
    rebag(copy)
    found = problems(copy)
    assert any("content does not match its hash (edited after it was signed)" in p for p in found)
    assert any("signature does not verify" in p for p in found)
    assert any(p.startswith("data/custody/signed/") and "differs from event" in p for p in found)


def test_swapped_signatures(copy: Path) -> None:
    def swap(events: list[dict]) -> None:
        events[1]["signature"], events[2]["signature"] = (
            events[2]["signature"],
            events[1]["signature"],
        )

    _edit_events(copy, swap)
    rebag(copy)
    found = problems(copy)
    assert sum("signature does not verify with the key" in p for p in found) == 2


def test_replaced_public_key_without_resigning(copy: Path) -> None:
    forged = Ed25519PrivateKey.generate().public_key()
    pem = forged.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    (copy / "data/custody/public-key.pem").write_bytes(pem)
    rebag(copy)
    report = verify_package(copy)
    events = json.loads((copy / "data/custody/events.json").read_text())
    assert sum("signature does not verify" in p for p in report.problems) == len(events)
    assert any(
        p.startswith("package-statement.json: not signed by the key") for p in report.problems
    )


def test_broken_chain_link(copy: Path, package: Path) -> None:
    def relink(events: list[dict]) -> None:
        events[2]["prev_hash"] = "0" * 64

    _edit_events(copy, relink)
    found = problems(copy)
    seq = json.loads((package / "data/custody/events.json").read_text())[2]["seq"]
    assert any(f"event #{seq}: content does not match its hash" in p for p in found)


def test_broken_tag_manifest(copy: Path) -> None:
    info = copy / "bag-info.txt"
    info.write_text(info.read_text().replace("testament evidence locker", "someone"))
    found = problems(copy)
    assert "bag-info.txt: sha256 does not match the manifest (file changed)" in found
    # Dropping README.txt from the tag manifests leaves it uncovered: it could say anything.
    for name in ("tagmanifest-sha256.txt", "tagmanifest-sha512.txt"):
        tag = copy / name
        lines = tag.read_text().splitlines(keepends=True)
        tag.write_text("".join(line for line in lines if "README.txt" not in line))
    assert "README.txt: not listed in the tag manifest (file added)" in problems(copy)


def _readme_commands(folder: Path) -> list[str]:
    lines = (folder / "README.txt").read_text().splitlines()
    return [line.removeprefix("    $ ") for line in lines if line.startswith("    $ ")]


def test_readme_instructions_work_with_common_tools(copy: Path) -> None:
    need_tool("openssl", "apt-get install openssl")
    need_tool("sha256sum", "apt-get install coreutils")
    commands = _readme_commands(copy)
    assert any("openssl pkeyutl -verify" in c for c in commands)
    for command in commands:
        done = subprocess.run(["bash", "-c", command], cwd=copy, capture_output=True, text=True)
        assert done.returncode == 0, (command, done.stdout, done.stderr)
    # The same instructions catch a forged signature and a changed original.
    sig = sorted((copy / "data/custody/signed").glob("*.sig"))[3]
    sig.write_bytes(base64.b64decode(base64.b64encode(bytes(64))))
    loop = next(c for c in commands if "openssl pkeyutl" in c)
    done = subprocess.run(["bash", "-c", loop], cwd=copy, capture_output=True, text=True)
    assert done.returncode != 0 and f"BAD SIGNATURE: data/custody/signed/{sig.stem}" in done.stdout
    original = next((copy / "data/originals").iterdir())
    original.write_bytes(original.read_bytes() + b"x")
    check = subprocess.run(
        ["sha256sum", "--quiet", "-c", "manifest-sha256.txt"], cwd=copy, capture_output=True
    )
    assert check.returncode != 0


def test_unsafe_and_unreadable_packages(cli, tmp_path: Path) -> None:
    evil = tmp_path / "evil.zip"
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../escape.txt", "x")
    result = cli("verify-package", str(evil))
    assert result.exit_code == 2 and "unsafe path in zip" in result.output
    assert not (tmp_path.parent / "escape.txt").exists()
    junk = tmp_path / "junk.zip"
    junk.write_text("not a zip")
    result = cli("verify-package", str(junk))
    assert result.exit_code == 2 and "junk.zip: not a zip file" in result.output
    assert "Traceback" not in result.output


def test_export_incident_cli_zip_and_custody(cli, store: Store, tmp_path: Path) -> None:
    incident_id, shas = make_incident(store, tmp_path)
    out = tmp_path / "case-1.zip"
    result = cli("export", "incident", str(incident_id), "--out", str(out))
    assert result.exit_code == 0, result.output
    assert "2 assets" in result.output
    verified = cli("verify-package", str(out))
    assert verified.exit_code == 0 and ": intact" in verified.output, verified.output
    with store.read() as session:
        exported = [e for e in iter_events(session) if e.action == "exported"]
    assert sorted(e.subject for e in exported) == sorted(f"asset:{s}" for s in shas)
    details = json.loads(exported[0].details)
    assert details["incident"] == incident_id
    with zipfile.ZipFile(out) as archive:
        signed = archive.read(f"{out.stem}/package-statement.json")
    assert details["statement_sha256"] == hashlib.sha256(signed).hexdigest()
    again = cli("export", "assets", shas[0][:10], "--out", str(out))
    assert again.exit_code == 2 and "already exists" in again.output
    # Tampering inside the zip is found too.
    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(out) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if "/data/records/incident.json" in item.filename:
                data = data.replace(b"Two detainees shot.", b"Nobody was shot.")
            target.writestr(item, data)
    result = cli("verify-package", str(tampered))
    assert result.exit_code == 1
    assert "data/records/incident.json: sha256 does not match the manifest" in result.output
