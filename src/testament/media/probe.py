"""Probing a preserved file: what kind of media it is and what its container says."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
from PIL import Image

TOOL = f"PyAV {av.__version__}"


@dataclass(frozen=True)
class ProbeResult:
    media_type: str  # video, image, audio, document, other
    mime_type: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def _guess_mime(filename: str | None) -> str | None:
    return mimetypes.guess_type(filename or "")[0]


def _kind_from_mime(mime: str | None) -> str:
    if mime is None:
        return "other"
    major = mime.split("/", 1)[0]
    if major in ("video", "image", "audio"):
        return major
    if major == "text" or mime.startswith("application/"):
        return "document"
    return "other"


def probe_file(path: Path, filename: str | None = None) -> ProbeResult:
    """Probe a file; never raises for bad content, recording the parse error instead."""
    mime = _guess_mime(filename or path.name)
    expected = _kind_from_mime(mime)
    try:
        with Image.open(path) as image:
            return ProbeResult(
                "image",
                Image.MIME.get(image.format or "", mime),
                {"format": image.format, "width": image.width, "height": image.height},
            )
    except Exception:
        pass
    try:
        with av.open(str(path)) as container:
            streams = [
                {"type": s.type, "codec": s.codec_context.name if s.codec_context else None}
                for s in container.streams
            ]
            duration = container.duration / 1_000_000 if container.duration else None
            kind = (
                "video"
                if container.streams.video
                else "audio"
                if container.streams.audio
                else expected
            )
            return ProbeResult(
                kind,
                mime,
                {"container": container.format.name, "duration": duration, "streams": streams},
            )
    except Exception as exc:
        if expected in ("video", "image", "audio"):
            return ProbeResult(expected, mime, {}, f"cannot parse as {expected}: {exc}")
        return ProbeResult(expected, mime, {})
