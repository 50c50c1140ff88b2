"""Files and folders on disk, walked recursively in a stable order.

Whatever a folder holds is accounted for: regular files become items, and named pipes,
sockets, devices and broken symbolic links are reported as skipped, saying what they are.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator
from pathlib import Path

from testament.collect.items import Collected, Item, Problem, Sighting, Skipped, readable

# Files that operating systems and sync tools leave behind; never evidence.
IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".localized"})

_NOT_FILES = (
    (stat.S_ISFIFO, "a named pipe, not a file"),
    (stat.S_ISSOCK, "a socket, not a file"),
    (stat.S_ISCHR, "a character device, not a file"),
    (stat.S_ISBLK, "a block device, not a file"),
)


def _is_ignored(path: Path) -> bool:
    return path.name in IGNORED_NAMES or path.name.startswith("._")


def file_item(path: Path, context: Sighting) -> Item:
    absolute = path.resolve()
    sighting = Sighting(
        method="file", source_path=readable(absolute), filename=readable(path.name)
    ).merged(context)
    return Item(label=readable(path), sighting=sighting, path=absolute)


def _broken_link(path: Path, error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "a symbolic link loop"
    try:
        target = os.readlink(path)
    except OSError:
        target = "unreadable"
    if error.errno in (errno.ENOENT, errno.ENOTDIR):
        return f"a symbolic link to a missing file (target {target})"
    return f"a symbolic link that cannot be followed (target {target}: {error.strerror})"


def kind_of(path: Path) -> str | None:
    """None for a regular file or folder (after links); otherwise what `path` is instead."""
    mode = os.lstat(path).st_mode
    if stat.S_ISLNK(mode):
        try:
            mode = os.stat(path).st_mode
        except OSError as exc:
            return _broken_link(path, exc)
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    return next((what for test, what in _NOT_FILES if test(mode)), "not a regular file")


def not_a_file(path: Path, *, missing: str) -> str | None:
    """Why a file named in a list or export cannot be preserved (`missing` if it is not
    there), or None when it can. Raises OSError when the name itself cannot be looked up."""
    try:
        what = kind_of(path)
    except FileNotFoundError:
        return missing
    if what is None and path.is_dir():
        return "is a folder, not a file"
    return None if what is None else f"is {what}"


def _unreadable(path: Path, error: OSError | ValueError) -> Problem:
    if isinstance(error, ValueError):
        return Problem(readable(path), "the name holds a NUL character")
    if error.errno == errno.ENOENT:
        return Problem(readable(path), "no such file or folder")
    return Problem(readable(path), f"cannot read ({error.strerror or error})")


def collect_path(path: Path, context: Sighting) -> Iterator[Collected]:
    """Every regular file under `path` (or `path` itself), skipping OS clutter."""
    try:
        what = kind_of(path)
        is_folder = what is None and path.is_dir()
    except (OSError, ValueError) as exc:
        yield _unreadable(path, exc)
        return
    if what is not None:
        yield Skipped(readable(path), what)
    elif is_folder:
        yield from _walk(path, context)
    else:
        yield file_item(path, context)


def _walk(path: Path, context: Sighting) -> Iterator[Collected]:
    errors: list[OSError] = []
    for folder, dirs, files in os.walk(path, onerror=errors.append):
        dirs.sort()
        while errors:
            yield _folder_error(errors.pop(0), path)
        for name in sorted(dirs):
            child = Path(folder) / name
            if child.is_symlink():
                yield Skipped(readable(child), "a symbolic link to a folder, not followed")
        for name in sorted(files):
            child = Path(folder) / name
            if not _is_ignored(child):
                yield from _child(child, context)
    for error in errors:
        yield _folder_error(error, path)


def _child(child: Path, context: Sighting) -> Iterator[Collected]:
    try:
        what = kind_of(child)
    except OSError as exc:
        yield _unreadable(child, exc)
        return
    yield file_item(child, context) if what is None else Skipped(readable(child), what)


def _folder_error(error: OSError, path: Path) -> Problem:
    return Problem(readable(error.filename or path), f"cannot read folder ({error.strerror})")
