"""Opening a package that came as a zip, without letting the zip harm the machine.

A zip says in advance how large each member is, and Python's `zipfile` never yields more
than that. Those sizes are checked before anything is written: a member count, a cap on
the total unpacked size (and the free disk space), and a cap on how far a member may
expand, which is what a zip bomb does (18 MB of zeros unpack to 4 GB). Members that
would land outside the folder, or are links, are refused, as is a damaged zip.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

MAX_BYTES_ENV = "TESTAMENT_VERIFY_MAX_BYTES"
GIB = 1024**3
# Members smaller than this may expand as they like: small JSON records compress well.
RATIO_FLOOR = 64 * 1024


class PackageUnreadable(Exception):
    """Not a package at all: missing, not a zip or folder, or an unsafe zip."""


@dataclass(frozen=True)
class ZipLimits:
    """What a zipped package may unpack to."""

    max_bytes: int = 256 * GIB
    max_members: int = 200_000
    max_ratio: int = 100

    @classmethod
    def from_environment(cls) -> ZipLimits:
        """The default limits, with the size cap from TESTAMENT_VERIFY_MAX_BYTES if set."""
        value = os.environ.get(MAX_BYTES_ENV)
        if not value:
            return cls()
        try:
            return cls(max_bytes=int(value))
        except ValueError as exc:
            raise PackageUnreadable(f"{MAX_BYTES_ENV}={value!r}: not a number of bytes") from exc


def bag_root(folder: Path) -> Path:
    if (folder / "bagit.txt").is_file():
        return folder
    children = [p for p in folder.iterdir() if p.is_dir() and (p / "bagit.txt").is_file()]
    if len(children) == 1:
        return children[0]
    raise PackageUnreadable(f"{folder}: no bagit.txt; not a BagIt package")


def _check_member(path: Path, member: zipfile.ZipInfo, limits: ZipLimits) -> None:
    name = PurePosixPath(member.filename)
    if name.is_absolute() or ".." in name.parts or "\\" in member.filename:
        raise PackageUnreadable(f"{path}: unsafe path in zip: {member.filename!r}")
    if (member.external_attr >> 16) & 0o170000 == 0o120000:
        raise PackageUnreadable(f"{path}: symbolic link in zip: {member.filename!r}")
    expanded = member.file_size > RATIO_FLOOR
    if expanded and member.file_size > limits.max_ratio * max(member.compress_size, 1):
        raise PackageUnreadable(
            f"{path}: {member.filename!r} would expand {member.compress_size} bytes to "
            f"{member.file_size} (over {limits.max_ratio} times): refused as a zip bomb"
        )


def check_members(path: Path, archive: zipfile.ZipFile, limits: ZipLimits, room: int) -> None:
    """Refuse the zip before unpacking if any member, or all of them, exceed the limits."""
    members = archive.infolist()
    if len(members) > limits.max_members:
        raise PackageUnreadable(
            f"{path}: {len(members)} members, more than the limit of {limits.max_members}"
        )
    names = set()
    for member in members:
        _check_member(path, member, limits)
        if member.filename in names:
            raise PackageUnreadable(f"{path}: {member.filename!r} appears twice in the zip")
        names.add(member.filename)
    total = sum(member.file_size for member in members)
    if total > limits.max_bytes:
        raise PackageUnreadable(
            f"{path}: would unpack to {total} bytes, more than the limit of {limits.max_bytes} "
            f"(set {MAX_BYTES_ENV} to allow more)"
        )
    if total > room:
        raise PackageUnreadable(
            f"{path}: would unpack to {total} bytes, but only {room} are free for it"
        )


@contextmanager
def unpacked(path: Path, limits: ZipLimits) -> Iterator[Path]:
    """The bag's folder, from a zip unpacked within `limits` into a temporary folder."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PackageUnreadable(f"{path}: not a zip file ({exc})") from exc
    with archive, tempfile.TemporaryDirectory(prefix="testament-verify-") as tmp:
        check_members(path, archive, limits, shutil.disk_usage(tmp).free)
        try:
            archive.extractall(tmp)
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise PackageUnreadable(f"{path}: damaged zip ({exc})") from exc
        yield bag_root(Path(tmp))


@contextmanager
def opened_package(path: Path, limits: ZipLimits | None = None) -> Iterator[Path]:
    """The bag's folder: the path itself, or a zip unpacked (safely) into a temporary folder."""
    if path.is_dir():
        yield bag_root(path)
        return
    if not path.is_file():
        raise PackageUnreadable(f"{path}: no such file or folder")
    with unpacked(path, limits or ZipLimits.from_environment()) as root:
        yield root
