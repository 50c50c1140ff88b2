"""Where a container's own top-level structure says the file ends.

A download cut short keeps a whole header, and FFmpeg reads what is there without
complaint, taking the duration from that header. Matroska (and WebM) and RIFF (AVI, WAV)
write the size of their top-level elements when the muxer finishes, so a file shorter
than the sizes it declares was cut. Only the first bytes of each top-level element are
read, however large the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

# Top-level elements to walk: a header and a body, and rarely a few more chained
# (OpenDML AVI files over 1 GB chain RIFF chunks).
_TOP_LEVEL_MAX = 64
_EBML_TOP_LEVEL_IDS = frozenset({0x1A45DFA3, 0x18538067})  # the EBML header, a Segment
_RIFF_UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF})  # streaming writers leave one of these


def _vint(data: bytes, at: int, *, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer at `at`: (value, length), or None if malformed.

    A size whose bits are all ones means "unknown" (a live recording); it comes back as -1.
    """
    if at >= len(data) or data[at] == 0:
        return None
    length = 9 - data[at].bit_length()
    if at + length > len(data):
        return None
    value = int.from_bytes(data[at : at + length], "big")
    if keep_marker:
        return value, length
    value &= (1 << (7 * length)) - 1
    return (-1 if value == (1 << (7 * length)) - 1 else value), length


def _ebml_element(file: BinaryIO, at: int) -> int | None:
    """The length (header and body) of the Matroska top-level element at `at`, if known."""
    file.seek(at)
    head = file.read(12)
    element = _vint(head, 0, keep_marker=True)
    if element is None or element[0] not in _EBML_TOP_LEVEL_IDS:
        return None  # past the last element, or bytes that are not Matroska's
    length = _vint(head, element[1], keep_marker=False)
    if length is None or length[0] < 0:
        return None  # a size left unknown: nothing to compare
    return element[1] + length[1] + length[0]


def _riff_chunk(file: BinaryIO, at: int) -> int | None:
    """The length (header, body and pad byte) of the RIFF chunk at `at`, if known."""
    file.seek(at)
    head = file.read(8)
    if len(head) < 8 or head[:4] != b"RIFF":
        return None
    size = int.from_bytes(head[4:8], "little")
    if size in _RIFF_UNKNOWN_SIZES:
        return None
    return 8 + size + (size & 1)


def _end(path: Path, size: int, element: Callable[[BinaryIO, int], int | None]) -> int | None:
    """Where the chain of top-level elements ends, once it reaches the file's end."""
    at = 0
    with path.open("rb") as file:
        for _ in range(_TOP_LEVEL_MAX):
            length = element(file, at)
            if length is None:
                return None
            at += length
            if at >= size:
                return at
    return None


# FFmpeg's format name, what declares the size, how to read it, and the bytes a whole
# file may lack (writers often leave out the pad byte of an odd-sized last RIFF chunk).
_LAYOUTS: tuple[tuple[str, str, Callable[[BinaryIO, int], int | None], int], ...] = (
    ("matroska", "segment", _ebml_element, 0),
    ("avi", "RIFF chunk", _riff_chunk, 1),
    ("wav", "RIFF chunk", _riff_chunk, 1),
)


def declared_end(format_name: str, path: Path, size: int) -> tuple[str, int] | None:
    """(what declares it, where) when the file of `size` bytes ends before it should.

    `format_name` is FFmpeg's name for the container ("matroska,webm", "avi", "wav").
    """
    for prefix, what, element, slack in _LAYOUTS:
        if format_name.startswith(prefix):
            end = _end(path, size, element)
            return (what, end) if end is not None and end > size + slack else None
    return None
