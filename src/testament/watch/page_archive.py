"""What Chromium fetched for a page, written as WARC records (warcio) and packed as WACZ (wacz).

The browser hands over bodies already decoded (no gzip or chunking), so each response
record carries the decoded body with a matching `Content-Length`; the headers that
described the wire encoding are kept under `X-Archive-Orig-` names, the convention of
replay tools, so nothing the server said is dropped.
"""

from __future__ import annotations

import contextlib
import io
import json
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.warcwriter import WARCWriter

# Redirecting standard output is process-wide: one packing at a time may do it.
_QUIET = threading.Lock()
# Headers that describe how the body travelled, not what it is: void once decoded.
WIRE_HEADERS = frozenset({"content-encoding", "transfer-encoding", "content-length"})


@dataclass(frozen=True)
class Exchange:
    """One request the page made and the response it got, as the browser saw them."""

    url: str
    method: str
    request_headers: list[tuple[str, str]]
    request_body: bytes | None
    status: int
    status_text: str
    response_headers: list[tuple[str, str]]
    body: bytes
    received_at: datetime
    ip_address: str | None = None


class ArchiveError(Exception):
    """The web archive could not be written or packed."""


def _response_headers(headers: list[tuple[str, str]], length: int) -> list[tuple[str, str]]:
    kept: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() in WIRE_HEADERS:
            kept.append((f"X-Archive-Orig-{name}", value))
        else:
            kept.append((name, value))
    return [*kept, ("Content-Length", str(length))]


def _request_line(exchange: Exchange) -> tuple[str, list[tuple[str, str]]]:
    parts = urlsplit(exchange.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # HTTP/2 pseudo-headers (":authority", ...) are not HTTP/1.1 header lines.
    headers = [(n, v) for n, v in exchange.request_headers if not n.startswith(":")]
    if not any(name.lower() == "host" for name, _ in headers):
        headers.insert(0, ("Host", parts.netloc))
    return f"{exchange.method} {target} HTTP/1.1", headers


def write_warc(path: Path, exchanges: list[Exchange], software: str) -> None:
    """A gzipped WARC file: a warcinfo record, then each response with its request."""
    with path.open("wb") as out:
        writer = WARCWriter(out, gzip=True)
        writer.write_record(
            writer.create_warcinfo_record(
                path.name, {"software": software, "format": "WARC File Format 1.0"}
            )
        )
        for exchange in exchanges:
            when = datetime_to_iso_date(exchange.received_at)
            warc_headers = {"WARC-Date": when}
            if exchange.ip_address:
                warc_headers["WARC-IP-Address"] = exchange.ip_address
            http = StatusAndHeaders(
                f"{exchange.status} {exchange.status_text}".strip(),
                _response_headers(exchange.response_headers, len(exchange.body)),
                protocol="HTTP/1.1",
            )
            response = writer.create_warc_record(
                exchange.url,
                "response",
                payload=io.BytesIO(exchange.body),
                length=len(exchange.body),
                http_headers=http,
                warc_headers_dict=warc_headers,
            )
            writer.write_record(response)
            line, headers = _request_line(exchange)
            body = exchange.request_body or b""
            request = writer.create_warc_record(
                exchange.url,
                "request",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=StatusAndHeaders(line, headers, is_http_request=True),
                warc_headers_dict={
                    "WARC-Date": when,
                    "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
                },
            )
            writer.write_record(request)


def package_wacz(warc: Path, out: Path, page_url: str, title: str | None) -> None:
    """A WACZ file holding `warc`, its index, and `page_url` as the archive's page."""
    from wacz.main import main as wacz_main

    pages = warc.with_name("pages.jsonl")
    header = {"format": "json-pages-1.0", "id": "pages", "title": "Pages"}
    page = {"url": page_url} | ({"title": title} if title else {})
    pages.write_text(f"{json.dumps(header)}\n{json.dumps(page)}\n", encoding="utf-8")
    said = io.StringIO()  # the wacz tool narrates each step on standard output
    try:
        with _QUIET, contextlib.redirect_stdout(said):
            code = wacz_main(
                ["create", str(warc), "-o", str(out), "-p", str(pages), "--url", page_url]
            )
    except (ValueError, OSError) as exc:  # the page is not among the records, a full disk
        raise ArchiveError(f"cannot pack the web archive of {page_url}: {exc}") from exc
    if code != 0 or not out.exists():
        last = said.getvalue().strip().splitlines()[-1:] or ["no reason given"]
        raise ArchiveError(f"cannot pack the web archive of {page_url}: {last[0]}")
