"""Files and folders on disk, walked recursively in a stable order."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from testament.collect.items import Collected, Item, Problem, Sighting

# Files that operating systems and sync tools leave behind; never evidence.
IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "desktop.ini", ".localized"})


def _is_ignored(path: Path) -> bool:
    return path.name in IGNORED_NAMES or path.name.startswith("._")


def file_item(path: Path, context: Sighting) -> Item:
    absolute = path.resolve()
    sighting = Sighting(method="file", source_path=str(absolute), filename=path.name).merged(
        context
    )
    return Item(label=str(path), sighting=sighting, path=absolute)


def collect_path(path: Path, context: Sighting) -> Iterator[Collected]:
    """Every regular file under `path` (or `path` itself), skipping OS clutter."""
    if path.is_file():
        yield file_item(path, context)
        return
    if not path.is_dir():
        yield Problem(str(path), "no such file or folder")
        return

    errors: list[OSError] = []
    for folder, dirs, files in os.walk(path, onerror=errors.append):
        dirs.sort()
        while errors:
            error = errors.pop(0)
            yield Problem(str(error.filename or path), f"cannot read folder ({error.strerror})")
        for name in sorted(files):
            child = Path(folder) / name
            if not _is_ignored(child) and child.is_file():
                yield file_item(child, context)
    for error in errors:
        yield Problem(str(error.filename or path), f"cannot read folder ({error.strerror})")
