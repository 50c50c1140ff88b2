"""Turning what a user names on the command line into collected items."""

from __future__ import annotations

from collections.abc import Iterator
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
    if not as_files:
        if path.is_dir() and (path / EXPORT_FILE).is_file():
            yield from collect_export(path, context)
            return
        if path.is_file() and path.name == EXPORT_FILE:
            yield from collect_export(path.parent, context)
            return
        if path.is_file() and path.suffix.lower() in (".csv", ".tsv"):
            yield from collect_csv(path, context)
            return
    yield from collect_path(path, context)
