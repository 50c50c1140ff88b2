"""Sending stored evidence to a browser: nothing in it may act in the workbench's origin.

Originals are hostile input. A preserved web page or script served from the
workbench's own origin would run with the signed-in person's session (a `.js` original
passes `script-src 'self'`), so what comes back from the blob store is shown inline only
as media that a browser cannot execute, with a type that the probe found in the bytes
(never one guessed from the file's name); everything else is offered as a download of
opaque bytes. Every such response also carries a sandboxing CSP, `nosniff` and a
same-origin resource policy.

Each response that carries bytes of an original or of a derivative writes one audit row
before the first byte leaves, whatever range it asked for; a HEAD, a refused range
(416) or an error carries none and is not recorded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.types import Message, Receive, Scope, Send

from testament.catalog.models import Asset
from testament.locker.blobstore import BlobStore

# Media that browsers show or play and never run: raster images, audio and video.
# SVG is absent on purpose (it is a document that can hold script), as are PDF, HTML,
# XML and text of any kind.
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/quicktime",
        "video/x-matroska",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "audio/wav",
        "audio/flac",
        "audio/webm",
        "audio/aac",
    }
)
DOWNLOAD_TYPE = "application/octet-stream"
# Even shown inline, the bytes get a document of their own with no script, no plugins,
# no forms and a unique origin; styles inline only for the browser's own media viewer.
SANDBOX_CSP = (
    "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; "
    "style-src 'unsafe-inline'; frame-ancestors 'none'"
)
EVIDENCE_HEADERS = {
    "Content-Security-Policy": SANDBOX_CSP,
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}

Audit = Callable[[str | None], None]  # called with the Range header, if any


def inline_type(mime: str | None) -> str | None:
    """`mime` when it is safe to show inline, else None."""
    plain = (mime or "").split(";", 1)[0].strip().lower()
    return plain if plain in INLINE_TYPES else None


def original_inline_type(asset: Asset) -> str | None:
    """The type to show an original inline as, or None to offer it only as a download.

    Only media that the probe read as such (no parse error) qualify, and only when the
    MIME type it recorded is of that same kind: a page named `clip.mp4` fails to parse as
    video, and a script never becomes an image.
    """
    if asset.parse_error or asset.media_type not in ("image", "video", "audio"):
        return None
    mime = inline_type(asset.mime_type)
    return mime if mime and mime.startswith(asset.media_type + "/") else None


def carries_bytes(scope: Scope, status: int) -> bool:
    return scope.get("method") != "HEAD" and status in (200, 206)


class _AuditedSend:
    """Runs the audit when a response that carries bytes starts, before any is sent."""

    audit: Audit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def audited(message: Message) -> None:
            if message["type"] == "http.response.start" and carries_bytes(scope, message["status"]):
                await run_in_threadpool(self.audit, Headers(scope=scope).get("range"))
            await send(message)

        await super().__call__(scope, receive, audited)  # type: ignore[misc]


class AuditedFile(_AuditedSend, FileResponse):
    """A stored file, ranges included; each request that sends some of it is audited."""

    def __init__(self, path: Path, *, inline_as: str | None, filename: str, audit: Audit) -> None:
        """Shown inline as `inline_as` when that is a safe type; otherwise a download."""
        shown = inline_type(inline_as)
        super().__init__(
            path,
            media_type=shown or DOWNLOAD_TYPE,
            filename=filename,
            content_disposition_type="inline" if shown else "attachment",
            headers=EVIDENCE_HEADERS,
        )
        self.audit = audit


SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
STREAM_CHUNK = 1024 * 1024


def _byte_range(header: str | None, size: int) -> tuple[int, int] | bool | None:
    """(first, last) of one satisfiable range, None for the whole blob, False if unsatisfiable.

    Several ranges at once are answered with the whole blob, as HTTP allows.
    """
    found = SINGLE_RANGE.match((header or "").strip())
    if found is None or found.group(1) == found.group(2) == "":
        return None
    first, last = found.group(1), found.group(2)
    if first == "":  # the last N bytes
        return (max(size - int(last), 0), size - 1) if int(last) > 0 and size else False
    if last and int(last) < int(first):
        return None  # not a valid range: ignored
    if int(first) >= size:
        return False
    return int(first), min(int(last), size - 1) if last else size - 1


def _disposition(kind: str, filename: str) -> str:
    quoted = quote(filename)
    if quoted != filename:
        return f"{kind}; filename*=utf-8''{quoted}"
    return f'{kind}; filename="{filename}"'


class _BlobBody(Response):
    """A blob streamed from a store with no files to hand (object storage), ranges included."""

    def __init__(
        self, blobs: BlobStore, sha256: str, size: int, media_type: str, headers: dict[str, str]
    ) -> None:
        super().__init__(None, media_type=media_type, headers=headers | {"Accept-Ranges": "bytes"})
        self.blobs, self.sha256, self.size = blobs, sha256, size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        wanted = _byte_range(Headers(scope=scope).get("range"), self.size)
        headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        if wanted is False:
            headers.append((b"content-range", f"bytes */{self.size}".encode()))
            await send({"type": "http.response.start", "status": 416, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        first, last = wanted if isinstance(wanted, tuple) else (0, self.size - 1)
        status = 206 if isinstance(wanted, tuple) else 200
        if status == 206:
            headers.append((b"content-range", f"bytes {first}-{last}/{self.size}".encode()))
        headers.append((b"content-length", str(last - first + 1).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        if scope.get("method") == "HEAD":
            await send({"type": "http.response.body", "body": b""})
            return
        stream = await run_in_threadpool(self.blobs.open, self.sha256, first)
        try:
            remaining = last - first + 1
            while remaining > 0:
                chunk = await run_in_threadpool(stream.read, min(STREAM_CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            stream.close()
        await send({"type": "http.response.body", "body": b""})


class AuditedBlob(_AuditedSend, _BlobBody):
    """An original streamed from object storage, audited like a file."""

    def __init__(
        self,
        blobs: BlobStore,
        sha256: str,
        size: int,
        *,
        inline_as: str | None,
        filename: str,
        audit: Audit,
    ) -> None:
        shown = inline_type(inline_as)
        disposition = _disposition("inline" if shown else "attachment", filename)
        headers = EVIDENCE_HEADERS | {"Content-Disposition": disposition}
        super().__init__(blobs, sha256, size, shown or DOWNLOAD_TYPE, headers)
        self.audit = audit


class AuditedBytes(_AuditedSend, Response):
    """Bytes made from evidence (a clear preview), audited like a file."""

    def __init__(self, data: bytes, *, mime: str, audit: Audit) -> None:
        shown = inline_type(mime)
        super().__init__(data, media_type=shown or DOWNLOAD_TYPE, headers=EVIDENCE_HEADERS)
        if shown is None:
            self.headers["Content-Disposition"] = "attachment"
        self.audit = audit


def protected_bytes(data: bytes, mime: str) -> Response:
    """A rendering made to be safe to look at (the blurred preview): not audited."""
    return Response(
        data,
        media_type=inline_type(mime) or DOWNLOAD_TYPE,
        headers=EVIDENCE_HEADERS | {"Cache-Control": "private, max-age=3600"},
    )
