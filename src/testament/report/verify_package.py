"""Checking an evidence package on its own: no store, only what the package contains.

Every check names the file or event it concerns, so that a recipient can tell a changed
byte from a missing file, an edited event, a forged signature or a swapped key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import bagit

from testament.catalog.models import CustodyEvent
from testament.locker.custody import canonical_json, signed_bytes
from testament.locker.keys import key_id, load_public_key, signature_valid
from testament.report import timestamps
from testament.report.packages import EVENTS, PUBLIC_KEY, SIGNED_DIR

logging.getLogger("bagit").setLevel(logging.ERROR)


class PackageUnreadable(Exception):
    """Not a package at all: missing, not a zip or folder, or an unsafe zip."""


@dataclass
class PackageReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    events: int = 0
    assets: int = 0

    @property
    def intact(self) -> bool:
        return not self.problems


def _bag_root(folder: Path) -> Path:
    if (folder / "bagit.txt").is_file():
        return folder
    children = [p for p in folder.iterdir() if p.is_dir() and (p / "bagit.txt").is_file()]
    if len(children) == 1:
        return children[0]
    raise PackageUnreadable(f"{folder}: no bagit.txt; not a BagIt package")


@contextmanager
def opened_package(path: Path) -> Iterator[Path]:
    """The bag's folder: the path itself, or a zip unpacked (safely) into a temporary folder."""
    if path.is_dir():
        yield _bag_root(path)
        return
    if not path.is_file():
        raise PackageUnreadable(f"{path}: no such file or folder")
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageUnreadable(f"{path}: not a zip file ({exc})") from exc
    with archive, tempfile.TemporaryDirectory(prefix="testament-verify-") as tmp:
        for member in archive.infolist():
            name = PurePosixPath(member.filename)
            if name.is_absolute() or ".." in name.parts or "\\" in member.filename:
                raise PackageUnreadable(f"{path}: unsafe path in zip: {member.filename!r}")
            if (member.external_attr >> 16) & 0o170000 == 0o120000:
                raise PackageUnreadable(f"{path}: symbolic link in zip: {member.filename!r}")
        archive.extractall(tmp)
        yield _bag_root(Path(tmp))


def _check_bag(root: Path, report: PackageReport) -> bagit.Bag | None:
    """Manifests and tag manifests with bagit, every phase run so that every error is named."""
    try:
        bag = bagit.Bag(str(root))
        bag._validate_structure()
        bag._validate_bagittxt()
    except bagit.BagError as exc:
        report.problems.append(f"not a valid BagIt bag: {exc}")
        return None
    # bagit stops at the first failing phase; its phases are run one by one instead.
    phases = (bag._validate_oxum, bag._validate_completeness, lambda: bag._validate_entries(1))
    for phase in phases:
        try:
            phase()
        except bagit.BagValidationError as exc:
            details = getattr(exc, "details", None) or []
            if details:
                report.problems.extend(_bag_error(d) for d in details)
            else:
                report.problems.append(f"bag: {exc.message}")
    report.files = len(bag.payload_entries())
    return bag


def _bag_error(error: Any) -> str:
    if isinstance(error, bagit.ChecksumMismatch):
        return f"{error.path}: {error.algorithm} does not match the manifest (file changed)"
    if isinstance(error, bagit.FileMissing):
        return f"{error.path}: listed in a manifest but missing (file removed)"
    if isinstance(error, bagit.UnexpectedFile):
        return f"{error.path}: not listed in the manifest (file added)"
    return str(error)


def _check_tag_files(root: Path, bag: bagit.Bag, report: PackageReport) -> None:
    """Files outside data/ that no tag manifest covers could say anything: name them."""
    listed = {path for path in bag.entries if not path.startswith("data/")}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if not path.is_file() or relative.startswith("data/"):
            continue
        if relative.startswith("tagmanifest-") or relative == timestamps.TOKEN:
            continue
        if relative not in listed:
            report.problems.append(f"{relative}: not listed in the tag manifest (file added)")


def _load_json(root: Path, relative: str, report: PackageReport) -> Any:
    try:
        return json.loads((root / relative).read_text(encoding="utf-8"))
    except FileNotFoundError:
        report.problems.append(f"{relative}: missing")
    except (ValueError, UnicodeDecodeError) as exc:
        report.problems.append(f"{relative}: not valid JSON ({exc})")
    return None


def _digest(path: Path, name: str) -> str:
    digest = hashlib.new(name)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_file(root: Path, relative: str, expected: dict[str, Any], report: PackageReport) -> None:
    path = root / relative
    if not path.is_file():
        report.problems.append(f"{relative}: named in its record but missing")
        return
    if "size" in expected and path.stat().st_size != expected["size"]:
        report.problems.append(f"{relative}: size differs from its record")
    for algorithm in ("sha256", "sha512"):
        if algorithm in expected and _digest(path, algorithm) != expected[algorithm]:
            report.problems.append(f"{relative}: {algorithm} differs from its record")


def _check_records(root: Path, report: PackageReport) -> set[str]:
    """Each original and derivative against the hashes in its JSON record; returns the assets."""
    assets: set[str] = set()
    described: set[str] = set()
    for record_path in sorted((root / "data/records/assets").glob("*.json")):
        relative = record_path.relative_to(root).as_posix()
        record = _load_json(root, relative, report)
        if not isinstance(record, dict) or not isinstance(record.get("package_path"), str):
            if record is not None:
                report.problems.append(f"{relative}: not an asset record")
            continue
        assets.add(str(record.get("sha256")))
        described.add(record["package_path"])
        _check_file(root, record["package_path"], record, report)
        for derivative in record.get("derivatives") or []:
            described.add(derivative["package_path"])
            _check_file(root, derivative["package_path"], derivative, report)
    for folder in ("data/originals", "data/derivatives"):
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and relative not in described:
                report.problems.append(f"{relative}: no record describes this file")
    report.assets = len(assets)
    return assets


def _event(entry: dict[str, Any]) -> CustodyEvent:
    return CustodyEvent(
        seq=entry["seq"],
        time=entry["time"],
        actor=entry["actor"],
        action=entry["action"],
        subject=entry["subject"],
        details=canonical_json(entry["details"]),
        prev_hash=entry["prev_hash"],
    )


def _check_event(root: Path, entry: dict[str, Any], public: Any, report: PackageReport) -> None:
    seq = entry["seq"]
    payload = signed_bytes(_event(entry))
    if hashlib.sha256(payload).hexdigest() != entry["hash"]:
        report.problems.append(
            f"custody event #{seq}: content does not match its hash (edited after it was signed)"
        )
    if public is not None and not signature_valid(public, payload, entry["signature"]):
        report.problems.append(f"custody event #{seq}: signature does not verify with the key")
    stem = f"{SIGNED_DIR}/{seq:08d}"
    try:
        if (root / f"{stem}.json").read_bytes() != payload:
            report.problems.append(f"{stem}.json: differs from event #{seq} in {EVENTS}")
        if (root / f"{stem}.sig").read_bytes() != base64.b64decode(entry["signature"]):
            report.problems.append(f"{stem}.sig: differs from event #{seq}'s signature")
    except FileNotFoundError as exc:
        report.problems.append(f"{Path(exc.filename).relative_to(root).as_posix()}: missing")


def _check_custody(root: Path, assets: set[str], report: PackageReport) -> None:
    public = None
    try:
        public = load_public_key((root / PUBLIC_KEY).read_bytes())
        report.notes.append(f"custody signing key id {key_id(public)}")
    except FileNotFoundError:
        report.problems.append(f"{PUBLIC_KEY}: missing; signatures cannot be checked")
    except ValueError as exc:
        report.problems.append(f"{PUBLIC_KEY}: not an Ed25519 public key ({exc})")
    events = _load_json(root, EVENTS, report)
    if not isinstance(events, list):
        return
    previous: dict[str, Any] | None = None
    stored: set[str] = set()
    for entry in events:
        try:
            _check_event(root, entry, public, report)
        except (KeyError, TypeError, ValueError) as exc:
            report.problems.append(f"{EVENTS}: malformed event {entry!r:.80} ({exc})")
            continue
        if public is not None and entry.get("key_id") not in (None, key_id(public)):
            report.problems.append(f"custody event #{entry['seq']}: signed with another key id")
        if previous is not None and entry["seq"] <= previous["seq"]:
            report.problems.append(f"custody event #{entry['seq']}: out of order")
        elif (
            previous is not None
            and entry["seq"] == previous["seq"] + 1
            and entry["prev_hash"] != previous["hash"]
        ):
            report.problems.append(
                f"custody event #{entry['seq']}: does not link to event #{previous['seq']}"
            )
        if entry["action"] == "stored":
            stored.add(entry["subject"].removeprefix("asset:"))
        previous = entry
    report.events = len(events)
    for sha256 in sorted(assets - stored):
        report.problems.append(f"asset {sha256}: no 'stored' custody event in the package")


def _check_timestamp(root: Path, ca_path: Path | None, report: PackageReport) -> None:
    token_path = root / timestamps.TOKEN
    if not token_path.exists():
        report.notes.append("no trusted timestamp")
        return
    source = ca_path or root / timestamps.CERTIFICATES
    try:
        ca_pem = source.read_bytes()
        info = timestamps.verify_token(
            token_path.read_bytes(), (root / timestamps.STAMPED).read_bytes(), ca_pem, str(source)
        )
    except OSError as exc:
        report.problems.append(f"timestamp: cannot read {exc.filename}")
        return
    except timestamps.TimestampError as exc:
        report.problems.append(f"timestamp: {exc}")
        return
    trust = "" if ca_path else " (certificates from the package; compare with the authority's)"
    report.notes.append(f"trusted timestamp {info.time.isoformat()} by {info.authority}{trust}")


def verify_package(path: Path, ca_path: Path | None = None) -> PackageReport:
    """Check everything the package can prove about itself."""
    report = PackageReport()
    with opened_package(path) as root:
        bag = _check_bag(root, report)
        if bag is not None:
            _check_tag_files(root, bag, report)
        assets = _check_records(root, report)
        _check_custody(root, assets, report)
        _check_timestamp(root, ca_path, report)
    return report
