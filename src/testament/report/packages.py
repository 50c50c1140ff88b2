"""Evidence packages: BagIt bags (RFC 8493) that anyone can check without testament.

A package holds the originals byte for byte, optionally their derivatives, a JSON record
per asset, capture and analysis, the incident record, every custody event about its contents with
the exact signed bytes and signatures, and the store's public key. SHA-256 and SHA-512
manifests cover the payload and tag manifests cover the rest; a statement signed by the
store's key covers the tag manifests, the custody events included and the custody head
at export, so that nobody can edit the package and recompute its manifests unseen.
`sha256sum -c` and `openssl pkeyutl -verify` are enough to check it (README.txt inside
says how).
"""

from __future__ import annotations

import base64
import json
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from string import Template
from typing import Any

import bagit
from sqlalchemy import select
from sqlalchemy.orm import Session

from testament import __version__
from testament.actors import package as attribution_package
from testament.catalog.models import Asset, CustodyEvent, Derivative
from testament.catalog.records import asset_dict, capture_dict
from testament.investigate.models import Incident
from testament.locker.custody import event_as_dict, signed_bytes
from testament.locker.keys import public_pem
from testament.report import analyses, statement, timestamps
from testament.report.records import derivative_dict, derivatives_of, incident_record
from testament.store import Store

CHECKSUMS = ["sha256", "sha512"]
PUBLIC_KEY = "data/custody/public-key.pem"
EVENTS = "data/custody/events.json"
SIGNED_DIR = "data/custody/signed"
README = "README.txt"
TEMPLATE = Path(__file__).parent / "templates" / "package-readme.txt"


class PackageError(Exception):
    """The package cannot be made as asked (nothing to export, destination exists)."""


@dataclass
class PackageResult:
    path: Path
    package_id: str
    assets: int
    derivatives: int
    events: int
    tagmanifest_sha256: str
    statement_sha256: str
    timestamp: timestamps.TimestampInfo | None = None
    redacted: int = 0
    warnings: list[str] = field(default_factory=list)


def _extension(asset: Asset) -> str:
    name = asset.original_filename or ""
    suffix = Path(name).suffix.lower()
    return suffix if suffix and len(suffix) <= 8 and suffix[1:].isalnum() else ".bin"


def _payload(bag_dir: Path, relative: str) -> Path:
    """Where a payload file goes before `make_bag` moves the folder's contents into data/."""
    return bag_dir / relative.removeprefix("data/")


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _custody_head(session: Session) -> tuple[int, str]:
    """The newest event in the store's log as the package is made (seq and hash)."""
    last = session.execute(
        select(CustodyEvent).order_by(CustodyEvent.seq.desc()).limit(1)
    ).scalar_one()
    return last.seq, last.hash


def _events(session: Session, subjects: set[str], key_subject: str) -> list[CustodyEvent]:
    """Every event about the package's subjects, and the event that introduced the key."""
    query = (
        select(CustodyEvent)
        .where(
            CustodyEvent.subject.in_(subjects)
            | ((CustodyEvent.subject == key_subject) & (CustodyEvent.action == "init"))
        )
        .order_by(CustodyEvent.seq)
    )
    return list(session.execute(query).scalars())


def _write_custody(root: Path, events: list[CustodyEvent], store: Store) -> None:
    """events.json for people and programs; signed bytes (.json) and .sig per event for openssl."""
    _write_json(_payload(root, EVENTS), [event_as_dict(e) for e in events])
    signed = _payload(root, SIGNED_DIR)
    signed.mkdir(parents=True, exist_ok=True)
    for event in events:
        stem = f"{event.seq:08d}"
        (signed / f"{stem}.json").write_bytes(signed_bytes(event))
        (signed / f"{stem}.sig").write_bytes(base64.b64decode(event.signature))
    _payload(root, PUBLIC_KEY).write_text(public_pem(store.signer), encoding="ascii")


def _copy_blob(store: Store, sha256: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with store.blobs.open(sha256) as source, target.open("wb") as out:
        shutil.copyfileobj(source, out, 1024 * 1024)


DERIVATIVE_SUFFIXES = {"image/jpeg": ".jpg", "image/png": ".png", "video/mp4": ".mp4"}


def _derivative_path(asset: Asset, derivative: Derivative) -> str:
    suffix = DERIVATIVE_SUFFIXES.get(derivative.media_type or "", ".jpg")
    return f"data/derivatives/{asset.sha256}/{derivative.kind}-{derivative.sha256}{suffix}"


def _write_assets(
    store: Store,
    session: Session,
    root: Path,
    assets: list[Asset],
    with_derivatives: bool,
    redacted: dict[str, str],
    redacted_paths: dict[str, list[str]],
) -> int:
    """Originals, derivatives and their records; returns how many derivatives were written.

    With `redacted` (asset sha256 to the chosen redacted copy's sha256) that copy is
    included even without `with_derivatives`; `redacted_paths` collects the package paths
    of every redacted copy written, by asset.
    """
    written = 0
    for asset in assets:
        original = f"data/originals/{asset.sha256}{_extension(asset)}"
        _copy_blob(store, asset.sha256, _payload(root, original))
        record = asset_dict(asset) | {"package_path": original}
        chosen = redacted.get(asset.sha256)
        derivatives = [
            d
            for d in derivatives_of(session, asset.id)
            if with_derivatives or (d.kind == "redacted" and d.sha256 == chosen)
        ]
        record["derivatives"] = []
        for derivative in derivatives:
            path = _derivative_path(asset, derivative)
            _copy_blob(store, derivative.sha256, _payload(root, path))
            record["derivatives"].append(derivative_dict(derivative) | {"package_path": path})
            if derivative.kind == "redacted":
                redacted_paths.setdefault(asset.sha256, []).append(path)
            written += 1
        record["captures"] = [c.id for c in asset.captures]
        _write_json(_payload(root, f"data/records/assets/{asset.sha256}.json"), record)
        for path, analysis in analyses.package_records(session, asset):
            _write_json(_payload(root, path), analysis)
        for capture in asset.captures:
            _write_json(
                _payload(root, f"data/records/captures/{capture.id}.json"), capture_dict(capture)
            )
    return written


def _redaction_note(redacted: dict[str, list[str]], assets: list[Asset], asked: bool) -> str:
    """README section naming every redacted copy, and saying that the originals are not."""
    if not redacted and not asked:
        return ""
    lines = [
        "",
        "REDACTED COPIES",
        "",
        "Faces were blurred by an automatic detector in the derived copies listed below.",
        "A detector misses faces: look at each copy before publishing it. The originals",
        "under data/originals/ are NOT redacted: they are included unchanged so that the",
        "package can be verified and the copies compared with them. Remove data/originals/",
        "only from a copy you publish, never from the package you keep (it would no longer",
        "verify). The record of each copy (data/records/assets/) names the detector, its",
        "threshold and the blur, and a 'derived' custody event records its making.",
        "",
    ]
    for asset in assets:
        paths = redacted.get(asset.sha256)
        if paths:
            lines.extend(f"  {path}" for path in paths)
        else:
            lines.append(f"  (none for {asset.sha256}: {asset.media_type} media is not redacted)")
    return "\n".join(lines) + "\n"


def _readme(info: dict[str, str], key_id: str, timestamped: bool) -> str:
    text = Template(TEMPLATE.read_text(encoding="utf-8")).safe_substitute(
        package_id=info["External-Identifier"],
        description=info["External-Description"],
        created=info["Bagging-Date"],
        key_id=key_id,
    )
    if not timestamped:
        text = text.split("\n[timestamp]\n")[0].rstrip() + "\n"
    return text.replace("[timestamp]\n", "")


def _zip(folder: Path, out: Path) -> None:
    """One top-level folder in the zip, originals stored as they are (already compressed)."""
    tmp = out.with_name(f".{out.name}.part")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                relative = path.relative_to(folder)
                stored = relative.parts[:2] in (("data", "originals"), ("data", "derivatives"))
                archive.write(
                    path,
                    f"{out.stem}/{relative.as_posix()}",
                    compress_type=zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED,
                )
    tmp.replace(out)


def _sign(
    bag_dir: Path,
    store: Store,
    info: dict[str, str],
    events: list[int],
    head: tuple[int, str],
    tsa: timestamps.Authority | None,
) -> tuple[bytes, timestamps.TimestampInfo | None]:
    """Timestamp the tag manifest, sign the statement over it, and timestamp the statement.

    Returns the statement's bytes and its timestamp, if an authority is configured.
    """
    if tsa is not None:
        tsa.stamp(bag_dir, statement.TAG_MANIFEST)
    signed = statement.write_statement(
        bag_dir, store.signer, info["External-Identifier"], info["Bagging-Time"], events, head
    )
    stamp = tsa.stamp(bag_dir, statement.STATEMENT) if tsa is not None else None
    return signed, stamp


def build_package(
    store: Store,
    asset_ids: Iterable[int],
    out: Path,
    *,
    incident_id: int | None = None,
    with_derivatives: bool = False,
    tsa: timestamps.Authority | None = None,
    redacted: dict[str, str] | None = None,
) -> PackageResult:
    """Write the package to `out` (a .zip file, or else a new folder) and record the export.

    `redacted` maps assets (sha256) to the redacted copies (sha256) to include with them
    (`testament.media.redact` makes them); README.txt then lists them. The originals are
    still included, because the package must verify against its records.
    """
    asked = redacted is not None
    redacted_paths: dict[str, list[str]] = {}
    if out.exists():
        raise PackageError(f"{out}: already exists; choose a new name")
    package_id = str(uuid.uuid4())
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=".testament-package-") as tmp:
        bag_dir = Path(tmp) / (out.stem if out.suffix == ".zip" else out.name)
        bag_dir.mkdir()
        with store.read() as session:
            wanted = set(asset_ids)
            if incident_id is not None:
                wanted |= attribution_package.relied_on(session, incident_id)
            assets = list(session.execute(select(Asset).where(Asset.id.in_(wanted))).scalars())
            assets.sort(key=lambda a: a.sha256)
            if not assets:
                raise PackageError("nothing to export: no assets")
            description = f"{len(assets)} asset(s) from testament"
            if incident_id is not None:
                incident = session.get(Incident, incident_id)
                if incident is None:
                    raise PackageError(f"no incident {incident_id}")
                _write_json(
                    _payload(bag_dir, "data/records/incident.json"),
                    incident_record(session, incident),
                )
                _write_json(
                    _payload(bag_dir, "data/records/attribution.json"),
                    attribution_package.records(session, incident.id),
                )
                description = f"incident {incident.id}: {incident.title}"
            derivatives = _write_assets(
                store, session, bag_dir, assets, with_derivatives, redacted or {}, redacted_paths
            )
            key_subject = f"store:{store.signer.key_id}"
            events = _events(session, {f"asset:{a.sha256}" for a in assets}, key_subject)
            _write_custody(bag_dir, events, store)
            head = _custody_head(session)
        info = {
            "Source-Organization": "testament evidence locker",
            "External-Identifier": package_id,
            "External-Description": description,
            "Bag-Software-Agent": f"testament {__version__} (bagit {bagit.VERSION})",
            "Bagging-Date": datetime.now(UTC).date().isoformat(),
            "Bagging-Time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Signing-Key-Id": store.signer.key_id,
        }
        bag = bagit.make_bag(str(bag_dir), info, checksums=CHECKSUMS)
        (bag_dir / README).write_text(
            _readme(info, store.signer.key_id, tsa is not None)
            + _redaction_note(redacted_paths, assets, asked),
            encoding="utf-8",
        )
        if tsa is not None:
            tsa.write_certificates(bag_dir)
        bag.save(manifests=False)  # rewrites the tag manifests to cover README.txt
        tagmanifest = (bag_dir / "tagmanifest-sha256.txt").read_bytes()
        signed, stamp = _sign(bag_dir, store, info, [e.seq for e in events], head, tsa)
        if out.suffix == ".zip":
            _zip(bag_dir, out)
        else:
            shutil.move(str(bag_dir), out)
    result = PackageResult(
        out,
        package_id,
        len(assets),
        derivatives,
        len(events),
        timestamps.sha256_hex(tagmanifest),
        timestamps.sha256_hex(signed),
        stamp,
        redacted=sum(len(paths) for paths in redacted_paths.values()),
    )
    _record_export(store, assets, incident_id, result)
    return result


def _record_export(
    store: Store, assets: list[Asset], incident_id: int | None, result: PackageResult
) -> None:
    details = {
        "package": result.package_id,
        "file": result.path.name,
        "incident": incident_id,
        "tagmanifest_sha256": result.tagmanifest_sha256,
        "statement_sha256": result.statement_sha256,
        "derivatives": result.derivatives,
    } | ({"redacted": result.redacted} if result.redacted else {})
    with store.write() as session:
        for asset in assets:
            store.custody.append(session, "exported", f"asset:{asset.sha256}", details)
