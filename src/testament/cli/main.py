"""The `testament` command.

Each command is named here with where it lives and the first paragraph of its help, so
that `testament --help` lists them all without importing one (see lazy.py).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from testament import __version__
from testament.cli.common import err_console, escape, freeze_imports
from testament.cli.lazy import Entry, LazyGroup

COMMANDS = (
    Entry(
        "init",
        "testament.cli.store:init",
        "Create the store: blob folder, catalog and the signing key.",
    ),
    Entry(
        "ingest",
        "testament.cli.ingest:ingest",
        "Collect and preserve evidence, recording where each copy was seen.",
    ),
    Entry(
        "assets",
        "testament.cli.assets:assets",
        "List the preserved originals, in the order they were stored.",
    ),
    Entry(
        "show",
        "testament.cli.assets:show",
        "One asset: metadata, every capture, its footage, the same place, analyses, custody.",
    ),
    Entry(
        "verify",
        "testament.cli.store:verify",
        "Check the custody log and its head, the catalog against the signed events, and\n"
        "re-hash every original and derivative (docs/security.md says what this proves).",
    ),
    Entry(
        "worker",
        "testament.cli.worker:worker",
        "Run queued tasks (TESTAMENT_QUEUE_URL), on as many machines as needed.",
    ),
    Entry(
        "jobs",
        "testament.cli.jobs:jobs",
        "Jobs run by workers on preserved assets: queued, running, failed (with the error), done.",
    ),
    Entry(
        "match",
        "testament.cli.footage:match",
        "What footage in the locker does this file show, and at which second?",
    ),
    Entry(
        "footage",
        "testament.cli.footage:footage",
        "Groups of assets that show the same footage, earliest known capture first.",
    ),
    Entry(
        "demo",
        "testament.cli.demo:demo",
        "Build a synthetic demo case (no real or graphic footage) and ingest, list and verify it.",
    ),
    Entry(
        "serve",
        "testament.cli.serve:serve",
        "Serve the workbench (log in with a user from `testament user add`).",
    ),
    Entry(
        "capture-page",
        "testament.cli.capture_page:capture_page",
        "Preserve a post's page: full-page screenshot, WACZ archive, certificate chain, headers.",
    ),
    Entry(
        "verify-package",
        "testament.cli.export:verify_package_command",
        "Check an evidence package on its own (no store needed); exit 1 if anything is wrong.",
    ),
    Entry("alerts", "testament.cli.watch:alerts", "What the watchers found, newest first."),
    Entry(
        "recheck",
        "testament.cli.watch:recheck",
        "Ask whether each preserved post is still online; record those now removed.",
    ),
    Entry(
        "analyse",
        "testament.cli.analyse:analyse",
        "Read on-screen text and languages of assets; each result is a signed record.",
    ),
    Entry(
        "search",
        "testament.cli.analyse:search",
        "Find assets whose on-screen text, transcript or post text holds these words.",
    ),
    Entry(
        "faces",
        "testament.cli.faces:faces",
        "Face clusters across the locker: leads for comparison, never identifications.",
    ),
    Entry("custody", "testament.cli.custody:app", "The signed, hash-chained custody log."),
    Entry("blobs", "testament.cli.blobs:app", "The blob store that keeps the originals."),
    Entry("index", "testament.cli.footage:index_app", "The frame-hash index behind matching."),
    Entry(
        "user",
        "testament.cli.users:app",
        "Workbench users: add, list, change roles, reset passwords, API tokens.",
    ),
    Entry("export", "testament.cli.export:app", "Evidence packages and tables for others."),
    Entry("import", "testament.cli.export:import_app", "Bring tables back in."),
    Entry(
        "report",
        "testament.cli.export:report_app",
        "Reports to read: one incident, or the whole case.",
    ),
    Entry(
        "watch",
        "testament.cli.watch:app",
        "Watch channels, feeds, pages and folders for new posts.",
    ),
    Entry("actors", "testament.cli.actors:app", "Forces, formations, units and individuals."),
    Entry(
        "attribute",
        "testament.cli.actors:attribute_app",
        "Attribute incidents to actors, on stated bases; review attributions.",
    ),
    Entry(
        "accountability",
        "testament.cli.actors:accountability_app",
        "What the authorities did: events with their preserved sources; the case view.",
    ),
)


class Commands(LazyGroup):
    entries = COMMANDS


app = typer.Typer(
    name="testament",
    cls=Commands,
    help="Evidence locker and verification workbench for footage circulating online.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(wanted: bool) -> None:
    if wanted:
        print(f"testament {__version__}")
        raise typer.Exit()


@app.callback()
def options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Options before any command."""


def main() -> None:
    """Entry point: an unexpected failure is one line, not a traceback (unless TESTAMENT_DEBUG)."""
    freeze_imports()
    try:
        app()
    except Exception as exc:
        if os.environ.get("TESTAMENT_DEBUG"):
            raise
        err_console.print(
            f"[bold red]error:[/] {escape(type(exc).__name__)}: {escape(str(exc))} "
            "(set TESTAMENT_DEBUG=1 for details)",
            highlight=False,
        )
        sys.exit(2)
