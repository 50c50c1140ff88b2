"""`testament init` and `testament verify`: create a store, and prove it is intact."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from testament.cli.common import (
    DatabaseOption,
    HomeOption,
    JsonOption,
    console,
    err_console,
    fail,
    opened,
    print_json,
    settings,
)


def init(
    home: HomeOption = None, database_url: DatabaseOption = None, json_output: JsonOption = False
) -> None:
    """Create the store: blob folder, catalog and the signing key."""
    from testament.locker.keys import PRIVATE_NAME, public_pem
    from testament.store import StoreError, init_store

    resolved = settings(home, database_url)
    try:
        store, created = init_store(resolved)
    except StoreError as exc:
        fail(str(exc))
    try:
        key_file: Path = resolved.keys_dir / PRIVATE_NAME
        if json_output:
            print_json(
                {
                    "home": str(resolved.home),
                    "created": created,
                    "database_url": resolved.database_url,
                    "key_id": store.signer.key_id,
                    "public_key": public_pem(store.signer),
                }
            )
            return
        verb = "Created" if created else "Already initialised:"
        console.print(f"{verb} store at {resolved.home}", highlight=False)
        console.print(f"  catalog:     {resolved.database_url}", highlight=False)
        console.print(f"  blobs:       {resolved.blob_url}", highlight=False)
        console.print(
            f"  signing key: {key_file} (id {store.signer.key_id}; keep it private and backed up)",
            highlight=False,
        )
    finally:
        store.close()


def verify(
    home: HomeOption = None, database_url: DatabaseOption = None, json_output: JsonOption = False
) -> None:
    """Re-hash every original and check the whole custody chain and its signatures."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from testament.locker.verify import verify_store

    with (
        opened(home, database_url) as store,
        Progress(
            TextColumn("verifying"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=err_console,
            transient=True,
            disable=json_output or not err_console.is_terminal,
        ) as progress,
    ):
        task = progress.add_task("", total=None)
        report = verify_store(store, lambda n: progress.advance(task, n))
    if json_output:
        print_json(report.as_dict())
    else:
        for problem in report.problems:
            err_console.print(f"[bold red]FAIL[/] {escape(problem)}", highlight=False)
        for warning in report.warnings:
            err_console.print(f"[yellow]warning[/] {escape(warning)}", highlight=False)
        state = (
            "[green]intact[/]"
            if report.intact
            else f"[bold red]{len(report.problems)} problem(s)[/]"
        )
        console.print(
            f"{report.blobs_checked} blobs ({report.bytes_checked:,} bytes) and "
            f"{report.events_checked} custody events checked: {state}",
            highlight=False,
        )
    if not report.intact:
        raise typer.Exit(1)
