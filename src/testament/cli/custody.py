"""`testament custody log`: the custody events, for the whole store or one asset."""

from __future__ import annotations

from typing import Annotated

import typer

from testament.cli.common import (
    DatabaseOption,
    HomeOption,
    JsonOption,
    asset_or_fail,
    console,
    opened,
    print_json,
)

app = typer.Typer(help="The signed, hash-chained custody log.", no_args_is_help=True)


@app.command("log")
def log(
    sha256_prefix: Annotated[
        str | None, typer.Argument(help="Only events about this asset.")
    ] = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Print custody events in order."""
    from rich.table import Table

    from testament.locker.custody import event_as_dict, iter_events

    with opened(home, database_url) as store, store.read() as session:
        subject = None
        if sha256_prefix:
            subject = f"asset:{asset_or_fail(session, sha256_prefix).sha256}"
        events = [event_as_dict(event) for event in iter_events(session, subject)]
    if json_output:
        print_json(events)
        return
    table = Table("seq", "time (UTC)", "actor", "action", "subject", "hash")
    for event in events:
        table.add_row(
            str(event["seq"]),
            event["time"][:19].replace("T", " "),
            event["actor"],
            event["action"],
            event["subject"][:24],
            event["hash"][:12],
        )
    console.print(table)
