"""RFC 3161 trusted timestamps over a package's tag manifest and its signed statement.

The tag manifest names the hash of every other manifest, and the signed statement names
the tag manifest's hash, so a token from an outside authority over either proves the
whole package existed, unchanged, no later than the token's time; the statement's token
also dates the store's signature. Each token sits beside the file it stamps
(`tagmanifest-sha256.txt.tsr`, `package-statement.json.tsr`, which no manifest can
cover) with the authority's certificates (`timestamp-authority.pem`), so that
`openssl ts -verify` can check them too.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

# cryptography, rfc3161-client and urllib.request are imported where they are used: the
# command line reads the names below each time it starts.
if TYPE_CHECKING:
    from cryptography import x509
    from rfc3161_client import VerifierBuilder

CERTIFICATES = "timestamp-authority.pem"
STAMPED = ("tagmanifest-sha256.txt", "package-statement.json")
TSA_URL_ENV = "TESTAMENT_TSA_URL"
TSA_CA_ENV = "TESTAMENT_TSA_CA"


class TimestampError(Exception):
    """The authority could not be reached, refused, or its token does not check out."""


@dataclass(frozen=True)
class TimestampInfo:
    time: datetime
    authority: str


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _certificates(pem: bytes, source: str) -> list[x509.Certificate]:
    from cryptography import x509

    try:
        certificates = x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise TimestampError(f"{source}: not PEM certificates ({exc})") from exc
    return certificates


def _verifier(certificates: list[x509.Certificate], builder: VerifierBuilder) -> VerifierBuilder:
    """Self-signed certificates are trust roots; the others may be intermediates."""
    for certificate in certificates:
        if certificate.issuer == certificate.subject:
            builder = builder.add_root_certificate(certificate)
        else:
            builder = builder.add_intermediate_certificate(certificate)
    return builder


def _authority_name(token: bytes) -> str:
    from cryptography import x509
    from rfc3161_client import decode_timestamp_response

    response = decode_timestamp_response(token)
    for der in response.signed_data.certificates:
        certificate = x509.load_der_x509_certificate(der)
        return certificate.subject.rfc4514_string()
    return "unnamed authority"


def token_name(stamped: str) -> str:
    """Where the token over the file `stamped` is kept."""
    return f"{stamped}.tsr"


def verify_token(
    token: bytes, data: bytes, ca_pem: bytes, ca_source: str, name: str
) -> TimestampInfo:
    """Check that `token` (the file `name`) is a valid timestamp over `data` from `ca_pem`."""
    from rfc3161_client import VerificationError, VerifierBuilder, decode_timestamp_response

    try:
        response = decode_timestamp_response(token)
    except ValueError as exc:
        raise TimestampError(f"{name}: not a timestamp response ({exc})") from exc
    certificates = _certificates(ca_pem, ca_source)
    try:
        _verifier(certificates, VerifierBuilder()).build().verify_message(response, data)
    except (VerificationError, ValueError) as exc:
        raise TimestampError(f"{name}: does not verify against {ca_source}: {exc}") from exc
    return TimestampInfo(response.tst_info.gen_time, _authority_name(token))


@dataclass(frozen=True)
class Authority:
    """A timestamp authority: its URL and the PEM certificates that its tokens chain to."""

    url: str
    ca_pem: bytes

    @classmethod
    def load(cls, url: str, ca_path: Path) -> Authority:
        try:
            pem = ca_path.read_bytes()
        except OSError as exc:
            raise TimestampError(f"{ca_path}: cannot read ({exc.strerror})") from exc
        _certificates(pem, str(ca_path))
        return cls(url, pem)

    def write_certificates(self, bag_dir: Path) -> None:
        (bag_dir / CERTIFICATES).write_bytes(self.ca_pem)

    def request(self, data: bytes) -> bytes:
        import urllib.error
        import urllib.request

        from rfc3161_client import HashAlgorithm, TimestampRequestBuilder

        request = TimestampRequestBuilder().data(data).hash_algorithm(HashAlgorithm.SHA512).build()
        http = urllib.request.Request(
            self.url,
            data=request.as_bytes(),
            headers={"Content-Type": "application/timestamp-query"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(http, timeout=30) as reply:
                return reply.read()
        except (urllib.error.URLError, OSError) as exc:
            raise TimestampError(f"timestamp authority {self.url}: {exc}") from exc

    def stamp(self, bag_dir: Path, stamped: str) -> TimestampInfo:
        """Get a token over the bag's file `stamped`, check it, and write it beside it."""
        data = (bag_dir / stamped).read_bytes()
        token = self.request(data)
        name = token_name(stamped)
        info = verify_token(token, data, self.ca_pem, "the configured authority certificates", name)
        (bag_dir / name).write_bytes(token)
        return info
