"""Checking an evidence package on its own: no store, only what the package contains.

Every check names the file or event it concerns, so that a recipient can tell a changed
byte from a missing file, an edited event, a forged signature or a swapped key. Beyond
the manifests, which anyone can recompute, the store's signed statement fixes what the
package held when it left the store, and each record is checked against the signed
custody events it comes from.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import bagit
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from testament.catalog.models import CustodyEvent
from testament.locker.custody import canonical_json, signed_bytes
from testament.locker.keys import key_id, load_public_key, signature_valid
from testament.report import analyses, statement, timestamps
from testament.report.cross_check import Checker, SignedEvent, SignedEvents
from testament.report.packages import EVENTS, PUBLIC_KEY, SIGNED_DIR
from testament.report.statement import Statement
from testament.report.unpack import PackageUnreadable, ZipLimits, opened_package

__all__ = ["PackageReport", "PackageUnreadable", "ZipLimits", "verify_package"]

ASSET_RECORDS = "data/records/assets"
CAPTURE_RECORDS = "data/records/captures"
PAYLOAD_FOLDERS = (("data", "originals"), ("data", "derivatives"))

logging.getLogger("bagit").setLevel(logging.ERROR)


@dataclass
class PackageReport:
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: int = 0
    events: int = 0
    assets: int = 0
    analyses: int = 0

    @property
    def intact(self) -> bool:
        return not self.problems


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
        uncovered = relative in statement.UNCOVERED or relative in statement.TAG_MANIFESTS
        if not path.is_file() or relative.startswith("data/") or uncovered:
            continue
        if relative.startswith("tagmanifest-"):
            report.problems.append(f"{relative}: a tag manifest that testament does not write")
        elif relative not in listed:
            report.problems.append(f"{relative}: not listed in the tag manifest (file added)")


def _load_json(root: Path, relative: str, report: PackageReport) -> Any:
    try:
        return json.loads((root / relative).read_text(encoding="utf-8"))
    except FileNotFoundError:
        report.problems.append(f"{relative}: missing")
    except (ValueError, UnicodeDecodeError) as exc:
        report.problems.append(f"{relative}: not valid JSON ({exc})")
    return None


def _public_key(root: Path, report: PackageReport) -> Ed25519PublicKey | None:
    try:
        public = load_public_key((root / PUBLIC_KEY).read_bytes())
    except FileNotFoundError:
        report.problems.append(f"{PUBLIC_KEY}: missing; signatures cannot be checked")
        return None
    except ValueError as exc:
        report.problems.append(f"{PUBLIC_KEY}: not an Ed25519 public key ({exc})")
        return None
    report.notes.append(f"custody signing key id {key_id(public)}")
    return public


def _check_statement(
    root: Path, bag: bagit.Bag | None, public: Ed25519PublicKey | None, report: PackageReport
) -> Statement | None:
    """The signed statement, checked against the tag manifests and bag-info.txt."""
    try:
        signed = statement.read_statement(root, public)
    except statement.StatementError as exc:
        report.problems.append(str(exc))
        return None
    statement.check_covered(root, signed, report.problems)
    if public is not None and signed.key_id != key_id(public):
        report.problems.append(
            f"{statement.STATEMENT}: names key id {signed.key_id}, signed by {key_id(public)}"
        )
    if bag is not None:
        info = {name: bag.info.get(name) for name in ("Signing-Key-Id", "External-Identifier")}
        expected = {"Signing-Key-Id": signed.key_id, "External-Identifier": signed.package}
        for name, value in info.items():
            if value != expected[name]:
                report.problems.append(
                    f"bag-info.txt: {name} {value!r} is not the signed statement's "
                    f"{expected[name]!r}"
                )
    return signed


def _digest(path: Path, name: str) -> str:
    digest = hashlib.new(name)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _check_file(root: Path, relative: Any, expected: dict[str, Any], report: PackageReport) -> None:
    name = PurePosixPath(str(relative))
    if not isinstance(relative, str) or name.parts[:2] not in PAYLOAD_FOLDERS or ".." in name.parts:
        report.problems.append(f"{relative!r}: a record names a file outside {PAYLOAD_FOLDERS}")
        return
    path = root / relative
    if not path.is_file():
        report.problems.append(f"{relative}: named in its record but missing")
        return
    if "size" in expected and path.stat().st_size != expected["size"]:
        report.problems.append(f"{relative}: size differs from its record")
    for algorithm in ("sha256", "sha512"):
        if algorithm in expected and _digest(path, algorithm) != expected[algorithm]:
            report.problems.append(f"{relative}: {algorithm} differs from its record")


def _check_asset_records(
    root: Path, checker: Checker, report: PackageReport
) -> dict[str, list[Any]]:
    """Originals and derivatives against their records, and records against their events.

    Returns the capture ids that each asset's record lists, by the asset's SHA-256.
    """
    assets: dict[str, list[Any]] = {}
    described: set[str] = set()
    for record_path in sorted((root / ASSET_RECORDS).glob("*.json")):
        relative = record_path.relative_to(root).as_posix()
        record = _load_json(root, relative, report)
        if not isinstance(record, dict) or not isinstance(record.get("package_path"), str):
            if record is not None:
                report.problems.append(f"{relative}: not an asset record")
            continue
        sha256 = str(record.get("sha256"))
        if record_path.stem != sha256:
            report.problems.append(f"{relative}: describes asset {sha256}, not {record_path.stem}")
        if not PurePosixPath(record["package_path"]).name.startswith(sha256):
            report.problems.append(f"{relative}: package_path does not name asset {sha256}")
        assets[sha256] = list(record.get("captures") or [])
        described.add(record["package_path"])
        _check_file(root, record["package_path"], record, report)
        for derivative in record.get("derivatives") or []:
            if isinstance(derivative, dict):
                described.add(str(derivative.get("package_path")))
                _check_file(root, derivative.get("package_path"), derivative, report)
        checker.asset(relative, record)
    for folder in ("data/originals", "data/derivatives"):
        for path in sorted((root / folder).rglob("*")):
            relative = path.relative_to(root).as_posix()
            if path.is_file() and relative not in described:
                report.problems.append(f"{relative}: no record describes this file")
    report.assets = len(assets)
    return assets


def _check_capture_records(
    root: Path, assets: dict[str, list[Any]], checker: Checker, report: PackageReport
) -> None:
    """Each capture record against its signed event and the asset record that lists it."""
    seen: set[Any] = set()
    for record_path in sorted((root / CAPTURE_RECORDS).glob("*.json")):
        relative = record_path.relative_to(root).as_posix()
        record = _load_json(root, relative, report)
        if not isinstance(record, dict):
            if record is not None:
                report.problems.append(f"{relative}: not a capture record")
            continue
        capture_id = record.get("id")
        seen.add(capture_id)
        if str(capture_id) != record_path.stem:
            report.problems.append(f"{relative}: describes capture {capture_id!r}")
        if capture_id not in assets.get(str(record.get("sha256")), []):
            report.problems.append(
                f"{relative}: no asset record in the package lists capture {capture_id!r}"
            )
        checker.capture(relative, record)
    for sha256, captures in sorted(assets.items()):
        for capture_id in captures:
            if capture_id not in seen:
                report.problems.append(
                    f"{ASSET_RECORDS}/{sha256}.json: lists capture {capture_id!r}, "
                    f"but {CAPTURE_RECORDS}/{capture_id}.json is missing"
                )


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


def _check_event(root: Path, entry: dict[str, Any], public: Any, report: PackageReport) -> bool:
    """Hash, signature and signed files of one event; True if it is the store's, unchanged."""
    seq = entry["seq"]
    payload = signed_bytes(_event(entry))
    trusted = public is not None
    if hashlib.sha256(payload).hexdigest() != entry["hash"]:
        trusted = False
        report.problems.append(
            f"custody event #{seq}: content does not match its hash (edited after it was signed)"
        )
    if public is not None and not signature_valid(public, payload, entry["signature"]):
        trusted = False
        report.problems.append(f"custody event #{seq}: signature does not verify with the key")
    stem = f"{SIGNED_DIR}/{seq:08d}"
    try:
        if (root / f"{stem}.json").read_bytes() != payload:
            report.problems.append(f"{stem}.json: differs from event #{seq} in {EVENTS}")
        if (root / f"{stem}.sig").read_bytes() != base64.b64decode(entry["signature"]):
            report.problems.append(f"{stem}.sig: differs from event #{seq}'s signature")
    except FileNotFoundError as exc:
        report.problems.append(f"{Path(exc.filename).relative_to(root).as_posix()}: missing")
    return trusted


def _check_chain(entries: list[dict[str, Any]], report: PackageReport) -> None:
    """Events in order, and consecutive ones linked by their hashes."""
    for previous, entry in itertools.pairwise(entries):
        if entry["seq"] <= previous["seq"]:
            report.problems.append(f"custody event #{entry['seq']}: out of order")
        elif entry["seq"] == previous["seq"] + 1 and entry["prev_hash"] != previous["hash"]:
            report.problems.append(
                f"custody event #{entry['seq']}: does not link to event #{previous['seq']}"
            )


def _check_custody(
    root: Path, public: Ed25519PublicKey | None, report: PackageReport
) -> tuple[list[dict[str, Any]], SignedEvents]:
    """Every event's hash, signature and links; returns the events and those that verify."""
    signed = SignedEvents()
    events = _load_json(root, EVENTS, report)
    if not isinstance(events, list):
        return [], signed
    checked: list[dict[str, Any]] = []
    for entry in events:
        try:
            trusted = _check_event(root, entry, public, report)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            report.problems.append(f"{EVENTS}: malformed event {entry!r:.80} ({exc})")
            continue
        if public is not None and entry.get("key_id") not in (None, key_id(public)):
            report.problems.append(f"custody event #{entry['seq']}: signed with another key id")
        checked.append(entry)
        if trusted and isinstance(entry["details"], dict):
            signed.add(
                SignedEvent(
                    entry["seq"],
                    entry["time"],
                    entry["actor"],
                    entry["action"],
                    entry["subject"],
                    entry["details"],
                )
            )
    _check_chain(checked, report)
    report.events = len(events)
    _check_signed_files(root, {entry["seq"] for entry in checked}, report)
    return checked, signed


def _check_signed_files(root: Path, seqs: set[int], report: PackageReport) -> None:
    for path in sorted((root / SIGNED_DIR).glob("*")):
        if not (
            path.stem.isdigit() and int(path.stem) in seqs and path.suffix in (".json", ".sig")
        ):
            relative = path.relative_to(root).as_posix()
            report.problems.append(f"{relative}: belongs to no event in {EVENTS}")


def _check_included(
    entries: list[dict[str, Any]], signed: Statement, report: PackageReport
) -> None:
    """The events in the package against those the statement says it includes."""
    present = {entry["seq"] for entry in entries}
    for seq in sorted(set(signed.events) - present):
        report.problems.append(
            f"custody event #{seq}: in the signed statement but missing from {EVENTS} (removed)"
        )
    for seq in sorted(present - set(signed.events)):
        report.problems.append(f"custody event #{seq}: not in the signed statement (added)")
    head_seq, head_hash = signed.head.get("seq"), signed.head.get("hash")
    for entry in entries:
        if isinstance(head_seq, int) and entry["seq"] > head_seq:
            report.problems.append(
                f"custody event #{entry['seq']}: newer than the store's custody head "
                f"#{head_seq} when the package was made"
            )
        elif entry["seq"] == head_seq and entry["hash"] != head_hash:
            report.problems.append(
                f"custody event #{head_seq}: not the store's custody head that the statement names"
            )
    report.notes.append(f"custody head at export: event #{head_seq} {str(head_hash)[:16]}…")


def _check_key_init(root: Path, signed: SignedEvents, report: PackageReport) -> None:
    """The public key in the package is the one the store's signed `init` event introduced."""
    pem = (root / PUBLIC_KEY).read_text(encoding="ascii", errors="replace").strip()
    for events in signed.by_subject.values():
        for event in events:
            introduced = event.details.get("public_key")
            if event.action == "init" and isinstance(introduced, str) and introduced.strip() != pem:
                report.problems.append(
                    f"{PUBLIC_KEY}: not the key that signed 'init' event #{event.seq} introduced"
                )


def _check_timestamps(root: Path, ca_path: Path | None, report: PackageReport) -> None:
    tokens = [name for name in timestamps.STAMPED if (root / timestamps.token_name(name)).exists()]
    if not tokens:
        report.notes.append("no trusted timestamp")
        return
    for stamped in timestamps.STAMPED:
        if stamped not in tokens:
            report.problems.append(f"{timestamps.token_name(stamped)}: missing")
    source = ca_path or root / timestamps.CERTIFICATES
    trust = "" if ca_path else " (certificates from the package; compare with the authority's)"
    for stamped in tokens:
        name = timestamps.token_name(stamped)
        try:
            info = timestamps.verify_token(
                (root / name).read_bytes(),
                (root / stamped).read_bytes(),
                source.read_bytes(),
                str(source),
                name,
            )
        except OSError as exc:
            report.problems.append(f"timestamp: cannot read {exc.filename}")
            continue
        except timestamps.TimestampError as exc:
            report.problems.append(f"timestamp: {exc}")
            continue
        report.notes.append(
            f"trusted timestamp {info.time.isoformat()} by {info.authority} over {stamped}{trust}"
        )


def verify_package(
    path: Path,
    ca_path: Path | None = None,
    *,
    expected_key_id: str | None = None,
    limits: ZipLimits | None = None,
) -> PackageReport:
    """Check everything the package can prove about itself.

    With `expected_key_id` (confirmed with the sender), a package signed by another key
    is a problem even if it is consistent in itself.
    """
    report = PackageReport()
    with opened_package(path, limits) as root:
        bag = _check_bag(root, report)
        if bag is not None:
            _check_tag_files(root, bag, report)
        public = _public_key(root, report)
        if public is not None and expected_key_id and key_id(public) != expected_key_id:
            report.problems.append(
                f"{PUBLIC_KEY}: key id {key_id(public)}, not the expected {expected_key_id}"
            )
        signed_statement = _check_statement(root, bag, public, report)
        entries, signed = _check_custody(root, public, report)
        if signed_statement is not None:
            _check_included(entries, signed_statement, report)
        if public is not None:
            _check_key_init(root, signed, report)
        checker = Checker(signed, report.problems)
        assets = _check_asset_records(root, checker, report)
        _check_capture_records(root, assets, checker, report)
        report.analyses = analyses.check_package(root, assets, signed, report.problems)
        _check_timestamps(root, ca_path, report)
    return report
