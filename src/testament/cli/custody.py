"""`testament custody log` and `custody anchor`: the custody events, and anchoring their head."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from testament.cli.common import (
    DatabaseOption,
    HomeOption,
    JsonOption,
    asset_or_fail,
    console,
    fail,
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


@app.command("anchor")
def anchor(
    tsa_url: Annotated[
        str | None,
        typer.Option(
            "--tsa-url",
            envvar="TESTAMENT_TSA_URL",
            help="RFC 3161 timestamp authority.",
            show_default=False,
        ),
    ] = None,
    tsa_ca: Annotated[
        Path | None,
        typer.Option(
            "--tsa-ca",
            envvar="TESTAMENT_TSA_CA",
            help="PEM certificates of the timestamp authority.",
            show_default=False,
        ),
    ] = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Timestamp the log's current head with an outside authority, recorded as an event.

    Even whoever holds the signing key cannot rewrite the log before an anchor unseen:
    `verify` checks that every anchored event is still in the log with its hash.
    """
    from testament.locker.anchors import anchor_head
    from testament.report.timestamps import Authority, TimestampError

    if not tsa_url or tsa_ca is None:
        fail("custody anchor needs --tsa-url and --tsa-ca (or TESTAMENT_TSA_URL, TESTAMENT_TSA_CA)")
    with opened(home, database_url) as store:
        try:
            made = anchor_head(store, Authority.load(tsa_url, tsa_ca))
        except TimestampError as exc:
            fail(str(exc))
    if json_output:
        print_json(vars(made))
        return
    console.print(
        f"anchored custody head {made.seq}:{made.hash}: timestamped by {made.authority} "
        f"at {made.time.isoformat()}, recorded as event #{made.event_seq}",
        highlight=False,
    )
