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

from collections.abc import Callable
from pathlib import Path

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.responses import FileResponse, Response
from starlette.types import Message, Receive, Scope, Send

from testament.catalog.models import Asset

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
