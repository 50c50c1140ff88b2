"""A local HTTPS server of post pages built by the tests, behind a certificate chain they make.

The chain is a test CA and a leaf for 127.0.0.1 and localhost, both served, so a capture
can be checked to have kept the chain of the very connection. Pages are tall (a capture
must screenshot the whole page), link a stylesheet sent gzip-encoded and an image, and
every response carries a header of the test's own.
"""

from __future__ import annotations

import gzip
import io
import ipaddress
import ssl
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image

PAGE_HEIGHT = 2600  # CSS pixels of the post page's content
TEST_HEADER = ("X-Test-Post", "kept beside the page")
STYLE = b"body { margin: 0; font-family: sans-serif; } .post { height: %dpx; }" % PAGE_HEIGHT
# A page that shows, in its title, what an earlier visit left in the browser, then leaves
# all of it: a cookie (also set by the server), local and session storage, the window's
# name, and a stylesheet the server allows to be cached for an hour.
MEMORY = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>memory</title>"
    b"<link rel='stylesheet' href='/static/cached.css'><script>"
    b"document.title = JSON.stringify({cookie: document.cookie,"
    b" local: localStorage.getItem('seen'), session: sessionStorage.getItem('seen'),"
    b" name: window.name});"
    b"document.cookie = 'script=1; max-age=3600'; localStorage.setItem('seen', '1');"
    b"sessionStorage.setItem('seen', '1'); window.name = 'seen';"
    b"</script></head><body><p>memory</p></body></html>"
)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@dataclass(frozen=True)
class Chain:
    leaf: x509.Certificate
    ca: x509.Certificate
    cert_file: Path  # leaf then CA, as the server sends them
    key_file: Path


def make_chain(folder: Path) -> Chain:
    """A CA and a leaf it signed, valid for a day around now."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("testament test CA"))
        .issuer_name(_name("testament test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_file, key_file = folder / "chain.pem", folder / "key.pem"
    pem = serialization.Encoding.PEM
    cert_file.write_bytes(leaf.public_bytes(pem) + ca.public_bytes(pem))
    key_file.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return Chain(leaf, ca, cert_file, key_file)


def post_text(number: int) -> str:
    return f"Post {number}: shelling reported near the bridge <script>alert(1)</script>"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 90, 160)).save(out, "PNG")
    return out.getvalue()


class _Pages(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as browsers expect
    image = _png()
    hits: ClassVar[Counter[str]] = Counter()  # requests a path received, over all servers

    def log_message(self, *_args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str, *extra: tuple[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header(*TEST_HEADER)
        for header in extra:
            self.send_header(*header)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        self.hits[path] += 1
        if path.startswith("/s/channel/"):
            number = int(path.rsplit("/", 1)[1])
            text = escape(post_text(number))
            body = (
                "<!doctype html><html><head><meta charset='utf-8'>"
                f"<title>Channel post {number}</title>"
                "<link rel='stylesheet' href='/static/style.css'></head><body>"
                f"<div class='post'><p class='text'>{text}</p>"
                "<img src='/static/photo.png' width='64' height='48'></div>"
                "</body></html>"
            ).encode()
            self._send(200, body, "text/html; charset=utf-8")
        elif path == "/hostile":
            # Never quiet on the network, a dialog, a pop-up and a download, all at once.
            body = (
                b"<!doctype html><html><head><title>Hostile post</title></head><body>"
                b"<p>hostile</p><script>"
                b"setInterval(() => fetch('/static/photo.png?' + Date.now()), 100);"
                b"document.title = 'Hostile\\u0000post\\ud800';"
                b"alert('hello'); window.open('/s/channel/1');"
                b"const a = document.createElement('a'); a.href = '/static/style.css';"
                b"a.download = 'x.css'; document.body.append(a); a.click();"
                b"</script></body></html>"
            )
            self._send(200, body, "text/html; charset=utf-8")
        elif path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/s/channel/7")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif path == "/memory":
            self._send(
                200, MEMORY, "text/html; charset=utf-8", ("Set-Cookie", "served=1; Max-Age=3600")
            )
        elif path == "/static/cached.css":
            self._send(200, STYLE, "text/css", ("Cache-Control", "public, max-age=3600"))
        elif path == "/static/style.css":
            self._send(200, gzip.compress(STYLE), "text/css", ("Content-Encoding", "gzip"))
        elif path == "/static/photo.png":
            self._send(200, self.image, "image/png")
        else:
            self._send(404, b"<html><body>Post not found</body></html>", "text/html")


@contextmanager
def https_pages(folder: Path) -> Iterator[tuple[str, Chain]]:
    """The server's base URL (https://127.0.0.1:PORT) and its chain, while in use."""
    chain = make_chain(folder)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain.cert_file, chain.key_file)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", chain
    finally:
        server.shutdown()
        server.server_close()
