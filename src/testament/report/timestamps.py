"""RFC 3161 trusted timestamps over a package's tag manifest.

The tag manifest names the hash of every other manifest, so one token from an outside
authority proves the whole package existed, unchanged, no later than the token's time.
The token sits beside the tag manifest (`tagmanifest-sha256.txt.tsr`, which no manifest
can cover) with the authority's certificates (`timestamp-authority.pem`), so that
`openssl ts -verify` can check it too.
"""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography import x509
from rfc3161_client import (
    HashAlgorithm,
    TimestampRequestBuilder,
    VerificationError,
    VerifierBuilder,
    decode_timestamp_response,
)

TOKEN = "tagmanifest-sha256.txt.tsr"
CERTIFICATES = "timestamp-authority.pem"
STAMPED = "tagmanifest-sha256.txt"
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
    response = decode_timestamp_response(token)
    for der in response.signed_data.certificates:
        certificate = x509.load_der_x509_certificate(der)
        return certificate.subject.rfc4514_string()
    return "unnamed authority"


def verify_token(token: bytes, data: bytes, ca_pem: bytes, ca_source: str) -> TimestampInfo:
    """Check that `token` is a valid timestamp over `data` from an authority under `ca_pem`."""
    try:
        response = decode_timestamp_response(token)
    except ValueError as exc:
        raise TimestampError(f"{TOKEN}: not a timestamp response ({exc})") from exc
    certificates = _certificates(ca_pem, ca_source)
    try:
        _verifier(certificates, VerifierBuilder()).build().verify_message(response, data)
    except (VerificationError, ValueError) as exc:
        raise TimestampError(f"{TOKEN}: does not verify against {ca_source}: {exc}") from exc
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

    def stamp(self, bag_dir: Path, data: bytes) -> TimestampInfo:
        """Get a token over `data`, check it, and write it into the bag."""
        token = self.request(data)
        info = verify_token(token, data, self.ca_pem, "the configured authority certificates")
        (bag_dir / TOKEN).write_bytes(token)
        return info
