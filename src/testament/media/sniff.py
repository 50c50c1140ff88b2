"""Recognising a file by its first bytes, because filenames from the internet lie.

Re-posted footage often arrives renamed (a video saved as `.jpg`, a file with no
extension at all), so the content decides what a file is; the extension is only a
fallback. Only signatures that are specific enough to trust are listed here; anything
else is left to the parsers.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path, PurePath

HEAD_SIZE = 4096

# ISO base media (MP4, QuickTime, HEIF) major brands that are not plain video.
_IMAGE_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"hevc": "image/heic-sequence",
    b"hevx": "image/heic-sequence",
    b"mif1": "image/heif",
    b"msf1": "image/heif-sequence",
    b"avif": "image/avif",
    b"avis": "image/avif",
}
_AUDIO_BRANDS = {b"M4A ": "audio/mp4", b"M4B ": "audio/mp4", b"M4P ": "audio/mp4"}

# Prefixes at offset 0, most specific first.
_PREFIXES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "image/jp2"),
    (b"\x1a\x45\xdf\xa3", "video/x-matroska"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "video/x-ms-asf"),
    (b"FLV\x01", "video/x-flv"),
    (b"\x00\x00\x01\xba", "video/mpeg"),
    (b"\x00\x00\x01\xb3", "video/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
    (b"ID3", "audio/mpeg"),
    (b"#!AMR", "audio/amr"),
    (b"caff", "audio/x-caf"),
    (b"%PDF-", "application/pdf"),
    (b"{\\rtf", "application/rtf"),
    (b"PK\x03\x04", "application/zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
    (b"Rar!\x1a\x07", "application/vnd.rar"),
    (b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (b"\x1f\x8b", "application/gzip"),
)
_RIFF_FORMS = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
_AIFF_FORMS = {b"AIFF": "audio/aiff", b"AIFC": "audio/aiff"}

# Formats that hold text, pages or tables: kept as documents, not parsed as media.
_DOCUMENT_MIMES = frozenset(
    {
        "application/pdf",
        "application/rtf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/x-ole-storage",
        "application/json",
        "application/xml",
        "application/epub+zip",
    }
)
_DOCUMENT_MIME_PREFIXES = (
    "text/",
    "application/vnd.openxmlformats-officedocument.",
    "application/vnd.oasis.opendocument.",
)

# Extensions whose meaning must not depend on the machine: Python's table lacks several,
# and /etc/mime.types differs between systems (Debian's says .ts is a Qt translation).
_NAMED_MIMES = {
    ".ts": "video/mp2t",
    ".mts": "video/mp2t",
    ".m2ts": "video/mp2t",
    ".mkv": "video/x-matroska",
    ".mka": "audio/x-matroska",
    ".webm": "video/webm",
    ".m4v": "video/mp4",
    ".m4a": "audio/mp4",
    ".3gp": "video/3gpp",
    ".ogv": "video/ogg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".amr": "audio/amr",
    ".flac": "audio/flac",
    ".wav": "audio/wav",
    ".caf": "audio/x-caf",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".heif": "image/heif",
    ".avif": "image/avif",
    ".doc": "application/msword",
    ".xls": "application/vnd.ms-excel",
    ".ppt": "application/vnd.ms-powerpoint",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".odp": "application/vnd.oasis.opendocument.presentation",
}

MEDIA_KINDS = ("video", "image", "audio")


def read_head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(HEAD_SIZE)


def kind_of_mime(mime: str | None) -> str:
    """video, image, audio, document or other."""
    if mime is None:
        return "other"
    major = mime.split("/", 1)[0]
    if major in MEDIA_KINDS:
        return major
    if mime in _DOCUMENT_MIMES or mime.startswith(_DOCUMENT_MIME_PREFIXES):
        return "document"
    return "other"


def mime_from_name(filename: str | None) -> str | None:
    suffix = PurePath(filename or "").suffix.lower()
    return _NAMED_MIMES.get(suffix) or mimetypes.guess_type(filename or "")[0]


def _iso_bmff(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand in _IMAGE_BRANDS:
        return _IMAGE_BRANDS[brand]
    if brand in _AUDIO_BRANDS:
        return _AUDIO_BRANDS[brand]
    if brand == b"qt  ":
        return "video/quicktime"
    if brand.startswith(b"3g2"):
        return "video/3gpp2"
    if brand.startswith(b"3gp"):
        return "video/3gpp"
    return "video/mp4"


def _mpeg_audio(head: bytes) -> str | None:
    """MPEG audio without an ID3 tag starts with an 11-bit frame sync."""
    if len(head) < 2 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    layer = (head[1] >> 1) & 0x03
    return "audio/aac" if layer == 0 else "audio/mpeg"


def _mpeg_ts(head: bytes) -> str | None:
    packets = [head[i] for i in range(0, min(len(head), 188 * 4), 188)]
    return "video/mp2t" if len(packets) >= 3 and set(packets) == {0x47} else None


def sniff_mime(head: bytes) -> str | None:
    """The MIME type that a file's first bytes prove, or None when they prove nothing."""
    for prefix, mime in _PREFIXES:
        if head.startswith(prefix):
            if mime == "video/x-matroska" and b"webm" in head[:64]:
                return "video/webm"
            return mime
    if head.startswith(b"RIFF"):
        return _RIFF_FORMS.get(head[8:12])
    if head.startswith(b"FORM"):
        return _AIFF_FORMS.get(head[8:12])
    return _iso_bmff(head) or _mpeg_ts(head) or _mpeg_audio(head)


def looks_like_text(head: bytes) -> bool:
    """UTF-8 without control bytes: worth calling a text document."""
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the end of the sample is still text.
        if exc.start < len(head) - 3:
            return False
        text = head[: exc.start].decode("utf-8")
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\n\r\f")
    return controls == 0
