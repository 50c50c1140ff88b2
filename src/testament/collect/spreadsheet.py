"""CSV and TSV lists of evidence: one row per file or post, with where it was seen.

Investigators keep such lists in spreadsheets, so the reader forgives what spreadsheet
programs write (a byte-order mark, CRLF, `;` or tab delimiters, texts over several lines,
blank rows) and reports each bad row by its line without stopping. The format is
documented for users in docs/csv-format.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from pathlib import Path

from testament.collect.dates import parse_datetime
from testament.collect.files import not_a_file
from testament.collect.items import Collected, Item, Problem, Sighting, readable, shown
from testament.collect.urls import collect_url, is_url

# Each field and the column names (after lowercasing, spaces and dashes as _) that give it.
COLUMNS: dict[str, tuple[str, ...]] = {
    "file": ("file", "path", "file_path", "filename", "file_name", "local_file", "media"),
    "url": ("url", "link", "post_url", "source_url"),
    "platform": ("platform", "site", "network"),
    "channel": ("channel", "account", "author", "uploader", "username"),
    "channel_id": ("channel_id", "account_id", "author_id", "uploader_id"),
    "post_id": ("post_id", "message_id"),
    "posted_at": ("posted_at", "posted", "date", "published", "published_at", "timestamp"),
    "text": ("text", "post_text", "caption", "description", "message"),
    "note": ("note", "notes", "comment", "comments"),
}
SYNONYMS = {name: field for field, names in COLUMNS.items() for name in names}

# Free text keeps its spacing; every other value is trimmed.
VERBATIM = frozenset({"text", "note"})

DELIMITERS = (",", ";", "\t")


def collect_csv(path: Path, context: Sighting) -> Iterator[Collected]:
    """An item per good row of the list at `path`, and a problem per bad row."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        yield Problem(str(path), f"cannot read ({exc.strerror or exc})")
        return
    except UnicodeDecodeError as exc:
        yield Problem(str(path), f"not UTF-8 text (byte {exc.start}); save the list as 'CSV UTF-8'")
        return
    yield from _rows(path, text, context)


def _delimiter(path: Path, text: str) -> str:
    """Tab for .tsv; otherwise whichever of , ; tab the header uses most (comma on a tie)."""
    if path.suffix.lower() == ".tsv":
        return "\t"
    header = next((line for line in text.splitlines() if line.strip()), "")
    return max(DELIMITERS, key=header.count)


def _rows(path: Path, text: str, context: Sighting) -> Iterator[Collected]:
    """Rows after the header, each labelled with the line it starts on.

    The reader's line count advances past every line of a quoted multi-line text, so
    a row starts on the line after the previous row ended.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(path, text))
    header: list[str] | None = None
    columns: dict[str, int] = {}
    ended = 0
    try:
        for record, row in enumerate(reader, start=1):
            line, ended = ended + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if header is not None:
                yield from _row(path, line, record, header, columns, row, context)
                continue
            header, found = row, _columns(row)
            if isinstance(found, str):
                yield Problem(str(path), found)
                return
            columns = found
    except csv.Error as exc:
        yield Problem(f"{path}:{reader.line_num}", f"cannot read further: {exc}")


def _row(
    path: Path,
    line: int,
    record: int,
    header: list[str],
    columns: dict[str, int],
    row: list[str],
    context: Sighting,
) -> Iterator[Collected]:
    label = f"{path}:{line}"
    # Spreadsheet programs number records, not lines; say so when the two differ.
    where = "" if record == line else f" (spreadsheet row {record})"
    if len(row) != len(header):
        yield Problem(label, f"{len(row)} fields where the header has {len(header)}{where}")
        return
    raw = dict(zip(header, row, strict=True))
    yield from _row_items(path, label, where, _values(row, columns), raw, context)


def _columns(header: list[str]) -> dict[str, int] | str:
    """Each known field's column index, or why the header cannot be used."""
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        field = SYNONYMS.get(re.sub(r"[\s\-]+", "_", name.strip().lower()))
        if field is None:
            continue
        if field in columns:
            return f"columns {header[columns[field]]!r} and {name!r} both give the {field}"
        columns[field] = index
    if "file" not in columns and "url" not in columns:
        found = ", ".join(repr(name) for name in header)
        return f"no file or url column (found {found}); see docs/csv-format.md"
    return columns


def _values(row: list[str], columns: dict[str, int]) -> dict[str, str]:
    """The row's non-blank values by field."""
    values: dict[str, str] = {}
    for field, index in columns.items():
        cell = row[index] if field in VERBATIM else row[index].strip()
        if cell.strip():
            values[field] = cell
    return values


def _row_items(
    path: Path,
    label: str,
    where: str,
    values: dict[str, str],
    raw: dict[str, str],
    context: Sighting,
) -> Iterator[Collected]:
    file, url = values.get("file"), values.get("url")
    if not file and not url:
        yield Problem(label, "neither a file nor a url" + where)
        return
    try:
        posted_at = parse_datetime(values["posted_at"]) if "posted_at" in values else None
    except ValueError as exc:
        yield Problem(label, f"posted_at: {exc}{where}")
        return
    sighting = Sighting(
        method="csv",
        platform=values.get("platform"),
        url=url,
        channel=values.get("channel"),
        channel_id=values.get("channel_id"),
        post_id=values.get("post_id"),
        post_text=values.get("text"),
        posted_at=posted_at,
        note=values.get("note"),
        raw=raw,
    ).merged(context)
    if file:
        yield _file_item(path.parent, label, where, file, sighting)
    elif url and is_url(url):
        yield from collect_url(url, sighting)
    else:
        yield Problem(label, f"url {shown(url)!r} is not a web address{where}")


def _file_item(folder: Path, label: str, where: str, value: str, sighting: Sighting) -> Collected:
    """The row's file, relative to the list's folder unless absolute."""
    quoted = shown(value)
    if "\x00" in value:
        return Problem(label, f"file {quoted!r}: the name holds a NUL character{where}")
    try:
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = folder / path
        reason = not_a_file(path, missing="not found")
        absolute = path.resolve()
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic link loop
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        return Problem(label, f"file {quoted!r} cannot be read ({detail}){where}")
    if reason is not None:
        return Problem(label, f"file {quoted!r} {reason}{where}")
    sighting = Sighting(method="csv", source_path=readable(absolute), filename=path.name).merged(
        sighting
    )
    return Item(f"{label} ({quoted})", sighting, path=absolute)
