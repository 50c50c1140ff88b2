"""Turning what a user names on the command line into collected items."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

from testament.collect.files import collect_path
from testament.collect.items import Collected, Sighting
from testament.collect.spreadsheet import collect_csv
from testament.collect.telegram import EXPORT_FILE, collect_export
from testament.collect.urls import collect_url, is_url


def collect(target: str, context: Sighting, *, as_files: bool = False) -> Iterator[Collected]:
    """Items from a URL, a Telegram export, a CSV list, or files and folders.

    `as_files` preserves exports and lists as plain files instead of reading them.
    """
    if is_url(target):
        yield from collect_url(target, context)
        return
    path = Path(target).expanduser()
    reader = None if as_files else _reader(path)
    if reader is None:
        yield from collect_path(path, context)
    else:
        yield from reader(context)


def _reader(path: Path) -> Callable[[Sighting], Iterator[Collected]] | None:
    """The collector that reads `path` as an export or a list, if it is one.

    A name the system cannot look up (too long, holding a NUL) is none of them; the
    files collector then says what is wrong with it.
    """
    try:
        if path.is_dir() and (path / EXPORT_FILE).is_file():
            return partial(collect_export, path)
        if path.is_file() and path.name == EXPORT_FILE:
            return partial(collect_export, path.parent)
        if path.is_file() and path.suffix.lower() in (".csv", ".tsv"):
            return partial(collect_csv, path)
    except OSError:
        pass
    return None
