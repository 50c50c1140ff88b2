"""`testament init` and `testament verify`: create a store, and prove it is intact."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from testament.cli.common import (
    DatabaseOption,
    HomeOption,
    JsonOption,
    console,
    counted,
    err_console,
    escape,
    fail,
    opened,
    print_json,
    settings,
)

PassphraseOption = Annotated[
    bool,
    typer.Option(
        "--passphrase",
        help="Protect the new signing key with a passphrase (asked for, or "
        "TESTAMENT_KEY_PASSPHRASE); later commands read it from TESTAMENT_KEY_PASSPHRASE.",
    ),
]


def init(
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    passphrase: PassphraseOption = False,
    json_output: JsonOption = False,
) -> None:
    """Create the store: blob folder, catalog and the signing key.

    The key goes to keys/ in the store, or where TESTAMENT_SIGNING_KEY names (a drive kept
    apart from the data it protects).
    """
    from testament.locker.keys import is_protected, passphrase_from_env, public_pem
    from testament.store import StoreError, init_store

    resolved = settings(home, database_url)
    secret = passphrase_from_env()
    if passphrase and secret is None:
        secret = typer.prompt(
            "Passphrase for the signing key", hide_input=True, confirmation_prompt=True
        )
    try:
        store, created = init_store(resolved, secret)
    except StoreError as exc:
        fail(str(exc))
    try:
        key_file = resolved.signing_key_path
        protected = is_protected(key_file)
        if json_output:
            print_json(
                {
                    "home": str(resolved.home),
                    "created": created,
                    "database_url": resolved.database_url,
                    "key_id": store.signer.key_id,
                    "key_file": str(key_file),
                    "passphrase_protected": protected,
                    "public_key": public_pem(store.signer),
                }
            )
            return
        verb = "Created" if created else "Already initialised:"
        guard = "passphrase-protected; " if protected else ""
        console.print(f"{verb} store at {resolved.home}", highlight=False)
        console.print(f"  catalog:     {resolved.database_url}", highlight=False)
        console.print(f"  blobs:       {resolved.blob_url}", highlight=False)
        console.print(
            f"  signing key: {key_file} (id {store.signer.key_id}; {guard}"
            "keep it private and backed up)",
            highlight=False,
        )
    finally:
        store.close()


HEAD_RE = re.compile(r"^#?(\d+):([0-9a-f]{64})$")
HeadOption = Annotated[
    list[str] | None,
    typer.Option(
        "--head",
        metavar="SEQ:HASH",
        help="A custody head written down earlier (as verify prints it): the log must "
        "still hold that event with that hash. May be repeated.",
        show_default=False,
    ),
]


def _heads(values: list[str]) -> list[tuple[int, str]]:
    heads = []
    for value in values:
        found = HEAD_RE.match(value.strip().lower())
        if found is None:
            fail(f"--head {value!r}: expected SEQ:HASH, e.g. 25:<64 hex digits>")
        heads.append((int(found.group(1)), found.group(2)))
    return heads


def verify(
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    head: HeadOption = None,
    json_output: JsonOption = False,
) -> None:
    """Check the custody log and its head, the catalog against the signed events, and
    re-hash every original and derivative (docs/security.md says what this proves)."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from testament.locker.verify import verify_store

    with (
        opened(home, database_url) as store,
        Progress(
            TextColumn("verifying"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=err_console.rich,
            transient=True,
            disable=json_output or not err_console.is_terminal,
        ) as progress,
    ):
        task = progress.add_task("", total=None)
        report = verify_store(store, lambda n: progress.advance(task, n), _heads(head or []))
    if json_output:
        print_json(report.as_dict())
    else:
        for problem in report.problems:
            err_console.print(f"[bold red]problem:[/] {escape(problem)}", highlight=False)
        for warning in report.warnings:
            err_console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
        if report.head is not None:
            seq, hash_ = report.head
            console.print(f"custody head: {seq}:{hash_}", highlight=False)
        state = (
            "[green]intact[/]"
            if report.intact
            else f"[bold red]{counted(len(report.problems), 'problem')}[/]"
        )
        console.print(
            f"{counted(report.blobs_checked, 'original')} and "
            f"{counted(report.derivatives_checked, 'derivative')} "
            f"({counted(report.bytes_checked, 'byte')}), "
            f"{counted(report.records_checked, 'catalog record')} and "
            f"{counted(report.events_checked, 'custody event')} checked: {state}",
            highlight=False,
        )
    if not report.intact:
        raise typer.Exit(1)
