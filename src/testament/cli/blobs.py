"""`testament blobs copy`: the store's originals copied to another blob store, verified."""

from __future__ import annotations

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
)

app = typer.Typer(help="The blob store that keeps the originals.", no_args_is_help=True)

ToOption = Annotated[
    str,
    typer.Option(
        "--to",
        metavar="URL",
        help="The blob store to copy to: s3://bucket/prefix or file:///path.",
        show_default=False,
    ),
]
EndpointOption = Annotated[
    str | None,
    typer.Option(
        "--endpoint",
        help="The S3 service of the destination [default: TESTAMENT_S3_ENDPOINT]",
        show_default=False,
    ),
]


def _size(count: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:,} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000  # type: ignore[assignment]
    raise AssertionError


@app.command("copy")
def copy(
    to: ToOption,
    endpoint: EndpointOption = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Copy every blob to another store, re-hashing each there; run again to resume.

    Nothing is deleted. Once it reports every blob copied, point TESTAMENT_BLOB_URL at
    the new store (README: "Object storage").
    """
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    from testament.locker.blobcopy import catalogued, copy_blobs
    from testament.locker.blobstore import BlobStoreError, open_blob_store

    with opened(home, database_url) as store:
        endpoint = endpoint or store.settings.s3_endpoint
        try:
            target = open_blob_store(to, endpoint)
        except BlobStoreError as exc:
            fail(str(exc))
        if target.url.rstrip("/") == store.blobs.url.rstrip("/"):
            fail(f"{to} is this store's own blob store")
        with Progress(
            TextColumn("copying {task.fields[done]:,} of {task.fields[blobs]:,} blobs"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            console=err_console.rich,
            transient=True,
            disable=json_output or not err_console.is_terminal,
        ) as progress:
            task = progress.add_task("", total=None, done=0, blobs=len(catalogued(store)))
            done = 0

            def blob_done() -> None:
                nonlocal done
                done += 1
                progress.update(task, done=done)

            try:
                report = copy_blobs(store, target, lambda n: progress.advance(task, n), blob_done)
            except BlobStoreError as exc:
                fail(str(exc))
    if json_output:
        print_json(report.as_dict())
    else:
        for problem in report.problems:
            err_console.print(f"[bold red]problem:[/] {escape(problem)}", highlight=False)
        console.print(
            f"{counted(report.copied, 'blob')} copied ({_size(report.bytes_copied)}), "
            f"{counted(report.already_there, 'blob')} already there; each re-hashed at "
            f"{report.destination}",
            highlight=False,
        )
        if report.complete:
            console.print(
                f"[green]complete[/]: every blob of {report.source} is in {report.destination}."
                f" To use it: export TESTAMENT_BLOB_URL={report.destination}"
                + (f" TESTAMENT_S3_ENDPOINT={endpoint}" if endpoint else "")
                + ", then run testament verify",
                highlight=False,
            )
        else:
            console.print(
                f"[bold red]{counted(len(report.problems), 'problem')}[/]: keep using "
                f"{report.source}; run the copy again once they are solved",
                highlight=False,
            )
    if not report.complete:
        raise typer.Exit(1)
