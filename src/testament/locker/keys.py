"""The store's Ed25519 signing key.

Created once at `init`; the private key file is readable by its owner alone. It may be
protected by a passphrase (`TESTAMENT_KEY_PASSPHRASE`) and kept outside the store folder
(`TESTAMENT_SIGNING_KEY=/path/to/key.pem`, e.g. on a removable drive), so that a copy of
the folder alone cannot sign. The public key stays in the store (`keys/signing-key.pub.pem`)
and travels with every evidence package so that anyone can check the signatures.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PRIVATE_NAME = "signing-key.pem"
PUBLIC_NAME = "signing-key.pub.pem"
PASSPHRASE_ENV = "TESTAMENT_KEY_PASSPHRASE"


class SigningKeyError(Exception):
    """The signing key is missing or unreadable."""


def _public_pem(public: Ed25519PublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(public: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: SHA-256 of its raw bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


@dataclass(frozen=True)
class Signer:
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, message: bytes) -> str:
        return base64.b64encode(self.private.sign(message)).decode("ascii")


def signature_valid(public: Ed25519PublicKey, message: bytes, signature_b64: str) -> bool:
    try:
        public.verify(base64.b64decode(signature_b64, validate=True), message)
    except (InvalidSignature, ValueError):
        return False
    return True


def passphrase_from_env() -> str | None:
    return os.environ.get(PASSPHRASE_ENV) or None


def _encryption(passphrase: str | None) -> serialization.KeySerializationEncryption:
    if passphrase is None:
        return serialization.NoEncryption()
    return serialization.BestAvailableEncryption(passphrase.encode("utf-8"))


def _write_private(path: Path, private: Ed25519PrivateKey, passphrase: str | None) -> None:
    if not path.parent.exists():
        path.parent.mkdir(parents=True)
        os.chmod(path.parent, 0o700)
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, _encryption(passphrase)
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())


def create_keys(private_path: Path, public_path: Path, passphrase: str | None = None) -> Signer:
    """Generate the store's key pair; refuses to overwrite an existing private key."""
    private = Ed25519PrivateKey.generate()
    _write_private(private_path, private, passphrase)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_bytes(_public_pem(private.public_key()))
    return Signer(private)


def _encrypted(pem: bytes) -> bool:
    return pem.lstrip().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")


def is_protected(private_path: Path) -> bool:
    """Whether the private key file is encrypted with a passphrase."""
    try:
        return _encrypted(private_path.read_bytes())
    except OSError:
        return False


def load_signer(private_path: Path, passphrase: str | None = None) -> Signer:
    """The private key at `private_path`, decrypted with `passphrase` where it has one."""
    try:
        pem = private_path.read_bytes()
    except FileNotFoundError as exc:
        raise SigningKeyError(
            f"{private_path}: signing key not found (run 'testament init', or set "
            "TESTAMENT_SIGNING_KEY to where the key is kept)"
        ) from exc
    except OSError as exc:
        raise SigningKeyError(f"{private_path}: cannot read ({exc.strerror})") from exc
    encrypted = _encrypted(pem)
    if encrypted and passphrase is None:
        raise SigningKeyError(
            f"{private_path}: the signing key is passphrase-protected; "
            f"set {PASSPHRASE_ENV} to its passphrase"
        )
    password = passphrase.encode("utf-8") if encrypted and passphrase is not None else None
    try:
        private = serialization.load_pem_private_key(pem, password=password)
    except ValueError as exc:
        reason = "wrong passphrase" if encrypted else str(exc)
        raise SigningKeyError(f"{private_path}: cannot open the signing key ({reason})") from exc
    if not isinstance(private, Ed25519PrivateKey):
        raise SigningKeyError(f"{private_path}: not an Ed25519 key")
    return Signer(private)


def check_belongs(signer: Signer, public_path: Path, private_path: Path) -> None:
    """The private key must be the one whose public half the store keeps."""
    try:
        public = load_public_key(public_path.read_bytes())
    except (OSError, ValueError) as exc:
        raise SigningKeyError(f"{public_path}: not a readable public key ({exc})") from exc
    if key_id(public) != signer.key_id:
        raise SigningKeyError(
            f"{private_path}: key {signer.key_id} is not this store's signing key "
            f"({key_id(public)}, in {public_path})"
        )


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    public = serialization.load_pem_public_key(pem)
    if not isinstance(public, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return public


def public_pem(signer: Signer) -> str:
    return _public_pem(signer.public).decode("ascii")
