"""Probing a preserved file: what kind of media it is and what it says about itself.

The file's first bytes decide what it is (renamed and extension-less files are common in
re-posted footage); the filename is a fallback and a cross-check. Stills go to Pillow
(dimensions, EXIF), audio and video to PyAV (container, streams, tags). Nothing here
raises for bad content: an unreadable file keeps the media type it claims to be and a
one-line reason that investigators can read. A file read only in part (cut short by an
interrupted download) keeps what its header says and records why as its parse error, so
that it never passes for a whole one.
"""

from __future__ import annotations

import struct
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import av
import PIL
from PIL import Image

from testament.media.avprobe import AvProbe, MediaUnreadable, probe_av
from testament.media.exif import read_exif
from testament.media.sniff import (
    MEDIA_KINDS,
    kind_of_mime,
    looks_like_text,
    mime_from_name,
    read_head,
    sniff_mime,
)

TOOL = f"PyAV {av.__version__} (FFmpeg {av.ffmpeg_version_info}), Pillow {PIL.__version__}"

# Still formats Pillow may claim (multi-picture JPEGs come back as MPO through JPEG).
# Some other Pillow plugins (TGA, for one) accept almost any bytes, which would turn an
# unknown binary into an "image".
PILLOW_FORMATS = ("JPEG", "PNG", "GIF", "WEBP", "AVIF", "TIFF", "BMP", "JPEG2000")
# Stills that FFmpeg reads when Pillow cannot (HEIF needs a plugin Pillow lacks).
AV_IMAGE_MIMES = frozenset(
    {"image/heic", "image/heic-sequence", "image/heif", "image/heif-sequence", "image/avif"}
)
# Generic containers whose filename says more than their bytes (.docx is a ZIP).
_CONTAINER_MIMES = frozenset({"application/zip", "application/x-ole-storage"})

_PILLOW_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


@dataclass(frozen=True)
class ProbeResult:
    """What a probe found; `metadata` holds only JSON values, ready for the catalog."""

    media_type: str  # video, image, audio, document, other
    mime_type: str | None
    metadata: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class _ImageUnreadable(Exception):
    """Pillow could not read the file; the message is one line and names no path."""


def _partial(kind: str, reason: str) -> str:
    return f"cannot parse as {kind} to the end: {reason}"


def _expect(head: bytes, filename: str) -> tuple[str, str | None]:
    """The media type and MIME type the file should have: content first, then name."""
    named = mime_from_name(filename)
    sniffed = sniff_mime(head)
    if sniffed in _CONTAINER_MIMES and kind_of_mime(named) == "document":
        return "document", named
    if sniffed is not None:
        return kind_of_mime(sniffed), sniffed
    if named is not None:
        return kind_of_mime(named), named
    if looks_like_text(head):
        return "document", "text/plain"
    return "other", None


def _mime_for(kind: str, mime: str | None) -> str | None:
    """Align the MIME type with what was found: an MP4 holding only sound is audio/mp4."""
    if mime is None or kind_of_mime(mime) == kind:
        return mime
    major, _, minor = mime.partition("/")
    if major in ("audio", "video") and kind in ("audio", "video"):
        return f"{kind}/{minor}"
    return None


def _one_line(message: str, path: Path) -> str:
    """A message fit for users: one line, no blob-store path (a SHA-256 means nothing)."""
    message = message.replace(str(path), "the file")
    return " ".join(message.split())


def _frame_count(image: Image.Image) -> int | None:
    """Frames in an animation; counting walks the file, so a cut one stops it (None)."""
    try:
        return getattr(image, "n_frames", 1)
    except _PILLOW_ERRORS:
        return None


def _image_fields(image: Image.Image) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "format": image.format,
        "width": image.width,
        "height": image.height,
        "mode": image.mode,
    }
    exif, exif_error = read_exif(image)
    if exif:
        metadata["exif"] = exif
    if exif_error:
        metadata["exif_error"] = exif_error
    return metadata


def _decoding_error(image: Image.Image, path: Path, frames: int | None) -> str | None:
    """Why the picture does not decode to its end (a cut file, damaged data), if it does not.

    Only decoding finds a cut: the header of a half-downloaded JPEG or PNG is whole.
    Counting `frames` walked an animation, so decoding starts again at its first frame.
    """
    if frames is None:
        return "its frames cannot be counted: the file is cut short or damaged"
    try:
        image.seek(0)
        image.load()
    except (*_PILLOW_ERRORS, Image.DecompressionBombError) as exc:
        return _one_line(str(exc), path)
    return None


def _pillow(path: Path) -> ProbeResult:
    """Probe a still with Pillow: header and EXIF, then the pixels decoded to find a cut."""
    Image.init()  # registers every plugin this Pillow build has, so the filter below is exact
    formats = [name for name in PILLOW_FORMATS if name in Image.OPEN]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with Image.open(path, formats=formats) as image:
                metadata = _image_fields(image)
                mime = Image.MIME.get(image.format or "")
                frames = _frame_count(image)
                if frames is not None:
                    metadata |= {"frames": frames, "animated": frames > 1}
                error = _decoding_error(image, path, frames)
        except Image.UnidentifiedImageError as exc:
            raise _ImageUnreadable("unrecognised or corrupt image data") from exc
        except (*_PILLOW_ERRORS, Image.DecompressionBombError) as exc:
            raise _ImageUnreadable(_one_line(str(exc), path)) from exc
    # EXIF damage that Pillow already met while opening is reported by read_exif.
    notes = [
        _one_line(str(warning.message), path)
        for warning in caught
        if not warning.filename.endswith("TiffImagePlugin.py")
    ]
    if notes:
        metadata["warnings"] = list(dict.fromkeys(notes))
    return ProbeResult("image", mime, metadata, error and _partial("image", error))


def _av_image(path: Path, mime: str | None) -> ProbeResult:
    """A still that only FFmpeg reads (HEIF): its stream, with the picture size on top."""
    found = probe_av(path)
    pictures = [s for s in found.metadata.get("streams", []) if s["type"] == "video"]
    if not pictures:
        raise MediaUnreadable("no picture in the file")
    size = {key: pictures[0][key] for key in ("width", "height") if key in pictures[0]}
    cut = found.cut_short and _partial("image", f"the file is cut short ({found.cut_short})")
    return ProbeResult("image", mime, size | found.metadata, cut)


def _probe_image(path: Path, mime: str | None) -> ProbeResult:
    try:
        return _pillow(path)
    except _ImageUnreadable as exc:
        reason = str(exc)
    if mime in AV_IMAGE_MIMES:
        try:
            return _av_image(path, mime)
        except MediaUnreadable as exc:
            reason = str(exc)
    return ProbeResult("image", mime, {}, f"cannot parse as image: {reason}")


def _probe_av_media(path: Path, kind: str, mime: str | None) -> ProbeResult:
    try:
        found = probe_av(path)
    except MediaUnreadable as exc:
        return ProbeResult(kind, mime, {}, f"cannot parse as {kind}: {exc}")
    if found.kind is None:
        error = f"cannot parse as {kind}: no audio or video streams"
        return ProbeResult(kind, mime, found.metadata, error)
    return _av_result(found, mime)


def _av_result(found: AvProbe, mime: str | None) -> ProbeResult:
    """What FFmpeg found in a file with streams; a cut one says so in its parse error."""
    assert found.kind is not None
    cut = found.cut_short and _partial(found.kind, f"the file is cut short ({found.cut_short})")
    return ProbeResult(found.kind, _mime_for(found.kind, mime), found.metadata, cut)


def _probe_unknown(path: Path, mime: str | None) -> ProbeResult:
    """Neither bytes nor name say what this is: media if a parser recognises it."""
    try:
        return _pillow(path)
    except _ImageUnreadable:
        pass
    try:
        found = probe_av(path)
    except MediaUnreadable:
        return ProbeResult("other", mime)
    if found.kind is None:
        return ProbeResult("other", mime)
    return _av_result(found, mime)


def _note_name(result: ProbeResult, filename: str) -> ProbeResult:
    """Record a filename that claims another media type: renaming is itself a clue."""
    named = mime_from_name(filename)
    if named is None or kind_of_mime(named) == result.media_type:
        return result
    return replace(result, metadata=result.metadata | {"filename_suggests": named})


def probe_file(path: Path, filename: str | None = None) -> ProbeResult:
    """Probe a file; never raises for bad content, recording the parse error instead.

    `filename` is the name the file was collected under (the preserved copy's own name
    is its SHA-256).
    """
    name = filename or path.name
    try:
        head = read_head(path)
    except OSError as exc:
        named = mime_from_name(name)
        return ProbeResult(kind_of_mime(named), named, {}, f"cannot read file: {exc.strerror}")
    kind, mime = _expect(head, name)
    if not head and kind in MEDIA_KINDS:
        # Failed downloads leave empty files; say so rather than quote a parser.
        result = ProbeResult(kind, mime, {}, f"cannot parse as {kind}: the file is empty")
    elif kind == "image":
        result = _probe_image(path, mime)
    elif kind in MEDIA_KINDS:
        result = _probe_av_media(path, kind, mime)
    elif kind == "other" and not looks_like_text(head):
        result = _probe_unknown(path, mime)
    else:
        result = ProbeResult(kind, mime)
    return _note_name(result, name)
