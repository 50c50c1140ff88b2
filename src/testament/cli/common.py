"""What every command shares: store options, JSON output, one-line errors.

Command modules import the modules they work with inside each command, never at the top:
building the app for `testament --help` or a quick query then loads only what it uses
(tests/test_cli_imports.py keeps it so).
"""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from testament import config

if TYPE_CHECKING:
    from rich.console import Console
    from sqlalchemy.orm import Session

    from testament.catalog.models import Asset
    from testament.store import Store


class _LazyConsole:
    """A Rich console made on first use: JSON output and quick failures then never load Rich.

    Attributes are the console's; `rich` is the console itself, for Rich's own classes.
    """

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._console: Console | None = None

    @property
    def rich(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(**self._options)
            if not self._console.is_terminal:
                # Piped or redirected, there is no screen to fit: tables keep every value whole.
                self._console.width = PIPED_WIDTH
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.rich, name)

    def rule(self, title: str = "", **options: Any) -> None:
        """A heading line across the terminal; piped, a line of PIPED_RULE_WIDTH."""
        from rich.rule import Rule

        width = None if self.rich.is_terminal else PIPED_RULE_WIDTH
        self.rich.print(Rule(title, **options), width=width)


PIPED_WIDTH = 10_000  # wider than any row a command prints
PIPED_RULE_WIDTH = 80
# Soft wrapping keeps each message on one line, whole, whatever the terminal's width.
console = _LazyConsole(soft_wrap=True)
err_console = _LazyConsole(stderr=True, soft_wrap=True)


class _Imports:
    """Whether this process is the command line's own, whose imports may be frozen."""

    frozen = False


def freeze_imports() -> None:
    """Called by the entry point: from now on `loading()` freezes what it imports."""
    _Imports.frozen = True


@contextmanager
def loading() -> Iterator[None]:
    """Import a command's libraries with the cyclic garbage collector paused, then freeze them.

    Importing SQLAlchemy, the catalog models, NumPy and FAISS leaves over 100,000 objects
    for the collector to track and no garbage, and the collector, run every 700 new
    objects, made 220 passes over them: 0.07 s, a tenth of a still query. Paused while
    they load and then frozen out of its sight (`gc.freeze`), they are never scanned
    again, and the collector runs as usual on what the command itself makes. Only in the
    command line's own process (`freeze_imports`): frozen objects are never collected,
    so a process that runs commands in turn (the tests) keeps its collection as it was.
    """
    if not _Imports.frozen or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """The count and the noun agreeing with it: "1 asset", "2 assets", "1,024 frame hashes"."""
    return f"{count:,} {noun if count == 1 else plural or noun + 's'}"


def escape(text: str) -> str:
    """Rich's markup escaping, loaded when first needed."""
    from rich.markup import escape as escape_markup

    return escape_markup(text)


HomeOption = Annotated[
    Path | None,
    typer.Option(
        "--home",
        help="Store directory [env: TESTAMENT_HOME; default ./testament-data]",
        show_default=False,
    ),
]
DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="Catalog database URL [env: TESTAMENT_DATABASE_URL]",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print records as JSON.")]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one clear line and stop: no tracebacks for a person to decipher."""
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    raise typer.Exit(code)


def asset_or_fail(session: Session, sha256_prefix: str) -> Asset:
    """The asset a person named by a SHA-256 prefix, or a one-line error."""
    from testament.catalog.records import AmbiguousOrMissing, find_asset

    try:
        return find_asset(session, sha256_prefix)
    except AmbiguousOrMissing as exc:
        fail(str(exc))


def settings(home: Path | None, database_url: str | None) -> config.Settings:
    return config.resolve(home=home, database_url=database_url)


@contextmanager
def opened(home: Path | None, database_url: str | None) -> Iterator[Store]:
    with loading():
        from testament.store import StoreError, open_store

    try:
        store = open_store(settings(home, database_url))
    except StoreError as exc:
        fail(str(exc))
    try:
        yield store
    finally:
        store.close()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__}")


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=_default, ensure_ascii=False, indent=2) + "\n")
