"""The package statement: the store's signature over everything a package holds.

BagIt manifests are unsigned, so whoever edits a package can recompute them. The
statement names the package, its creation time, the key, the custody events it
includes, the store's custody head at export, the hash of both tag manifests and the
SHA-256 of every file they cover, and the store's Ed25519 key signs its exact bytes.
It sits beside the tag manifests (which cannot cover it), as `package-statement.json`
with the raw signature in `package-statement.sig`, so that `openssl pkeyutl -verify
-rawin` checks it without testament.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from testament.locker.keys import Signer
from testament.report import timestamps

STATEMENT = "package-statement.json"
SIGNATURE = "package-statement.sig"
KIND = "testament evidence package statement"
# Written after the tag manifests, so that no manifest (nor the statement) covers them.
UNCOVERED = frozenset(
    {STATEMENT, SIGNATURE} | {timestamps.token_name(n) for n in timestamps.STAMPED}
)
TAG_MANIFEST = "tagmanifest-sha256.txt"
TAG_MANIFESTS = {TAG_MANIFEST: "sha256", "tagmanifest-sha512.txt": "sha512"}


@dataclass(frozen=True)
class Statement:
    """What the store vouches for, as signed."""

    package: str
    created: str
    key_id: str
    events: list[int]
    head: dict[str, Any]
    tag_manifests: dict[str, str]
    files: dict[str, str]


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_entries(bag_dir: Path, name: str) -> dict[str, str]:
    """Path to hash, as a BagIt manifest lists them (`HASH  PATH` per line)."""
    entries: dict[str, str] = {}
    for line in (bag_dir / name).read_text(encoding="utf-8").splitlines():
        digest, _, path = line.strip().partition(" ")
        if path.strip():
            entries[path.strip()] = digest.lower()
    return entries


def covered_files(bag_dir: Path) -> dict[str, str]:
    """The SHA-256 of every file the payload and tag manifests cover, by path."""
    return manifest_entries(bag_dir, "manifest-sha256.txt") | manifest_entries(
        bag_dir, TAG_MANIFEST
    )


def write_statement(
    bag_dir: Path,
    signer: Signer,
    package: str,
    created: str,
    events: list[int],
    head: tuple[int, str],
) -> bytes:
    """Sign and write the statement over the finished bag; returns its bytes."""
    body = {
        "statement": KIND,
        "package": package,
        "created": created,
        "key_id": signer.key_id,
        "custody_events": events,
        "custody_head": {"seq": head[0], "hash": head[1]},
        "tag_manifests": {
            name: file_digest(bag_dir / name, algorithm)
            for name, algorithm in TAG_MANIFESTS.items()
        },
        "files": covered_files(bag_dir),
    }
    payload = (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    (bag_dir / STATEMENT).write_bytes(payload)
    (bag_dir / SIGNATURE).write_bytes(base64.b64decode(signer.sign(payload)))
    return payload


class StatementError(Exception):
    """The statement is missing, unreadable or not signed by the package's key."""


def read_statement(root: Path, public: Ed25519PublicKey | None) -> Statement:
    """The statement, once its signature checks out against the package's public key."""
    try:
        payload = (root / STATEMENT).read_bytes()
        signature = (root / SIGNATURE).read_bytes()
    except FileNotFoundError as exc:
        name = Path(exc.filename).name
        raise StatementError(f"{name}: missing; nothing signs the package as a whole") from exc
    if public is None:
        raise StatementError(f"{STATEMENT}: cannot be checked without the public key")
    try:
        public.verify(signature, payload)
    except InvalidSignature as exc:
        raise StatementError(
            f"{STATEMENT}: not signed by the key in data/custody/public-key.pem "
            "(statement or key replaced)"
        ) from exc
    try:
        body = json.loads(payload)
        return Statement(
            package=str(body["package"]),
            created=str(body["created"]),
            key_id=str(body["key_id"]),
            events=[int(seq) for seq in body["custody_events"]],
            head=dict(body["custody_head"]),
            tag_manifests={str(k): str(v) for k, v in body["tag_manifests"].items()},
            files={str(k): str(v) for k, v in body["files"].items()},
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StatementError(f"{STATEMENT}: signed but not a package statement ({exc})") from exc


def check_covered(root: Path, statement: Statement, problems: list[str]) -> None:
    """The tag manifests and every file they cover, against what was signed."""
    for name, algorithm in TAG_MANIFESTS.items():
        path = root / name
        if not path.is_file():
            problems.append(f"{name}: missing, but the signed statement covers it")
        elif file_digest(path, algorithm) != statement.tag_manifests.get(name):
            problems.append(f"{name}: differs from the one the statement signed")
    try:
        current = covered_files(root)
    except (OSError, UnicodeDecodeError):
        return  # the bag check names unreadable manifests
    for path in sorted(statement.files.keys() | (current.keys() - UNCOVERED)):
        signed, now = statement.files.get(path), current.get(path)
        if now is None:
            problems.append(f"{path}: in the signed statement but no longer in the manifests")
        elif signed is None:
            problems.append(f"{path}: not in the signed statement (file added after export)")
        elif signed != now:
            problems.append(f"{path}: changed since the package was signed")
