"""The `testament` command."""

from __future__ import annotations

import typer

from testament.cli import assets, custody, ingest, store

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
app.add_typer(custody.app, name="custody")
