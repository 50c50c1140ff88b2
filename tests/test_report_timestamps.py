"""Trusted timestamps from a real RFC 3161 authority (`openssl ts`) on a loopback server."""

from __future__ import annotations

import subprocess
import tempfile
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.system import need_tool
from tests.test_report_packages import make_incident

CONFIG = """
[ tsa ]
default_tsa = tsa_config
[ tsa_config ]
dir = {dir}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl(folder: Path, *args: str) -> None:
    subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)


def _authority(folder: Path) -> None:
    """A root CA and a timestamping certificate it signed."""
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes")
    _openssl(folder, "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
             "-subj", "/CN=Test Root", "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign")  # fmt: skip
    _openssl(folder, "req", *ec, "-keyout", "tsa.key", "-out", "tsa.csr", "-subj", "/CN=Test TSA")
    (folder / "ext.cnf").write_text("extendedKeyUsage=critical,timeStamping\n")
    _openssl(folder, "x509", "-req", "-in", "tsa.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "tsa.crt", "-days", "2", "-extfile", "ext.cnf")  # fmt: skip
    (folder / "serial").write_text("01\n")
    (folder / "tsa.cnf").write_text(CONFIG.format(dir=folder))


@pytest.fixture
def tsa(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    need_tool("openssl", "apt-get install openssl")
    folder = tmp_path / "tsa"
    folder.mkdir()
    _authority(folder)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = self.rfile.read(int(self.headers["Content-Length"]))
            with tempfile.TemporaryDirectory() as work:
                (Path(work) / "q.tsq").write_bytes(query)
                _openssl(folder, "ts", "-reply", "-config", "tsa.cnf",
                         "-queryfile", f"{work}/q.tsq", "-out", f"{work}/r.tsr")  # fmt: skip
                reply = (Path(work) / "r.tsr").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", folder / "ca.crt"
    server.shutdown()


def test_timestamped_package(cli, store, tsa, tmp_path: Path) -> None:
    url, ca = tsa
    incident_id, _ = make_incident(store, tmp_path)
    out = tmp_path / "case"
    result = cli("export", "incident", str(incident_id), "--out", str(out),
                 "--tsa-url", url, "--tsa-ca", str(ca))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "timestamped" in result.output and "Test TSA" in result.output
    verified = cli("verify-package", str(out), "--tsa-ca", str(ca))
    assert verified.exit_code == 0, verified.output
    assert "trusted timestamp" in verified.output and "CN=Test TSA" in verified.output
    # The README's openssl command checks the token too.
    command = next(
        line.removeprefix("    $ ")
        for line in (out / "README.txt").read_text().splitlines()
        if "openssl ts -verify" in line
    )
    done = subprocess.run(["bash", "-c", command], cwd=out, capture_output=True, text=True)
    assert done.returncode == 0 and "Verification: OK" in done.stdout, done.stderr
    # A tag manifest changed after stamping no longer matches the token.
    tag = out / "tagmanifest-sha256.txt"
    tag.write_bytes(tag.read_bytes().replace(b"bagit.txt", b"bagit.txt ", 1))
    broken = cli("verify-package", str(out), "--tsa-ca", str(ca))
    assert broken.exit_code == 1 and "timestamp: " in broken.output
    # Another authority's root does not vouch for this token.
    other = tmp_path / "other"
    other.mkdir()
    _authority(other)
    tag.write_bytes(tag.read_bytes().replace(b"bagit.txt ", b"bagit.txt", 1))
    wrong = cli("verify-package", str(out), "--tsa-ca", str(other / "ca.crt"))
    assert wrong.exit_code == 1 and "does not verify against" in wrong.output


def test_authority_needs_certificates_and_reachability(cli, store, tmp_path: Path) -> None:
    incident_id, _ = make_incident(store, tmp_path)
    out = str(tmp_path / "case.zip")
    no_ca = cli("export", "incident", str(incident_id), "--out", out, "--tsa-url", "http://x")
    assert no_ca.exit_code == 2 and "--tsa-url needs --tsa-ca" in no_ca.output
    pem = tmp_path / "ca.pem"
    pem.write_text("not a certificate")
    bad = cli("export", "incident", str(incident_id), "--out", out,
              "--tsa-url", "http://127.0.0.1:9/", "--tsa-ca", str(pem))  # fmt: skip
    assert bad.exit_code == 2 and "not PEM certificates" in bad.output
    need_tool("openssl", "apt-get install openssl")
    _authority(tmp_path)
    ca = str(tmp_path / "ca.crt")
    down = cli("export", "incident", str(incident_id), "--out", out,
               "--tsa-url", "http://127.0.0.1:9/", "--tsa-ca", ca)  # fmt: skip
    assert down.exit_code == 2 and "timestamp authority http://127.0.0.1:9/" in down.output
    assert not (tmp_path / "case.zip").exists()
