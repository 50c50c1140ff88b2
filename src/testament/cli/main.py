"""The `testament` command."""

from __future__ import annotations

import os
import sys

import typer

from testament.cli import (
    actors,
    analyse,
    assets,
    capture_page,
    custody,
    demo,
    export,
    faces,
    footage,
    ingest,
    jobs,
    serve,
    store,
    users,
    watch,
    worker,
)
from testament.cli.blobs import app as blobs_app
from testament.cli.common import err_console, escape

app = typer.Typer(
    name="testament",
    help="Evidence locker and verification workbench for footage circulating online.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command()(store.init)
app.command()(ingest.ingest)
app.command()(assets.assets)
app.command()(assets.show)
app.command()(store.verify)
app.command()(worker.worker)
app.command()(jobs.jobs)
app.add_typer(custody.app, name="custody")
app.add_typer(blobs_app, name="blobs")
app.command()(footage.match)
app.command()(footage.footage)
app.add_typer(footage.index_app, name="index")
app.command()(demo.demo)
app.command()(serve.serve)
app.command("capture-page")(capture_page.capture_page)
app.add_typer(users.app, name="user")
app.add_typer(export.app, name="export")
app.command("verify-package")(export.verify_package_command)
app.add_typer(export.import_app, name="import")
app.add_typer(export.report_app, name="report")
app.add_typer(watch.app, name="watch")
app.command()(watch.alerts)
app.command()(watch.recheck)
app.add_typer(actors.app, name="actors")
app.add_typer(actors.attribute_app, name="attribute")
app.add_typer(actors.accountability_app, name="accountability")
app.command()(analyse.analyse)
app.command()(analyse.search)
app.command()(faces.faces)


def main() -> None:
    """Entry point: an unexpected failure is one line, not a traceback (unless TESTAMENT_DEBUG)."""
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
