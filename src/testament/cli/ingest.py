"""`testament ingest`: collect and preserve files, exports, lists and URLs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from testament.cli.common import (
    DatabaseOption,
    HomeOption,
    JsonOption,
    console,
    err_console,
    fail,
    opened,
    print_json,
)
from testament.collect.dates import parse_datetime
from testament.collect.ingest import Ingest, Outcome, Result
from testament.collect.items import Sighting
from testament.collect.sources import collect

STYLE = {
    Outcome.PRESERVED: "green",
    Outcome.ALREADY_PRESENT: "dim",
    Outcome.PARSE_ERROR: "yellow",
    Outcome.MEDIA_MISSING: "yellow",
    Outcome.SKIPPED: "yellow",
    Outcome.FAILED: "bold red",
}


class ProgressReporter:
    """A Rich progress bar over bytes, with one line per noteworthy item."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.task = progress.add_task("", total=None)

    def item_started(self, label: str, size: int | None) -> None:
        name = label if len(label) <= 40 else "…" + label[-39:]
        self.progress.reset(self.task, total=size, description=name)

    def bytes_done(self, count: int) -> None:
        self.progress.advance(self.task, count)

    def item_finished(self, result: Result) -> None:
        if result.outcome in (Outcome.PRESERVED, Outcome.ALREADY_PRESENT) and not result.message:
            return
        style = STYLE[result.outcome]
        detail = f": {result.message}" if result.message else ""
        self.progress.console.print(
            f"[{style}]{result.outcome.value}[/] {escape(result.label)}{escape(detail)}",
            highlight=False,
        )


def ingest(
    targets: Annotated[
        list[str], typer.Argument(help="Files, folders, Telegram exports, CSV lists or URLs.")
    ],
    platform: Annotated[
        str | None, typer.Option(help="Where the items were seen (telegram, x, youtube, ...).")
    ] = None,
    url: Annotated[
        str | None, typer.Option(help="Address of the post the items came from.")
    ] = None,
    channel: Annotated[
        str | None, typer.Option(help="Channel or account that posted them.")
    ] = None,
    posted_at: Annotated[
        str | None,
        typer.Option(help="When they were posted (ISO 8601; UTC unless a zone is given)."),
    ] = None,
    note: Annotated[str | None, typer.Option(help="A note kept with each capture.")] = None,
    as_files: Annotated[
        bool,
        typer.Option(
            "--as-files",
            help="Preserve exports and CSV lists as plain files instead of reading them.",
        ),
    ] = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Collect and preserve evidence, recording where each copy was seen."""
    try:
        posted: datetime | None = parse_datetime(posted_at) if posted_at else None
    except ValueError as exc:
        fail(f"--posted-at: {exc}")
    context = Sighting(
        method="file", platform=platform, url=url, channel=channel, posted_at=posted, note=note
    )
    with opened(home, database_url) as store:
        items = (item for target in targets for item in collect(target, context, as_files=as_files))
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
            disable=json_output or not err_console.is_terminal,
        ) as progress:
            reporter = ProgressReporter(progress)
            summary = Ingest(store, reporter).run(items)
    if json_output:
        print_json(
            {
                "summary": summary.as_dict(),
                "results": [
                    {
                        "item": r.label,
                        "outcome": r.outcome.value,
                        "sha256": r.sha256,
                        "new_capture": r.new_capture,
                        "message": r.message,
                    }
                    for r in summary.results
                ],
            }
        )
    else:
        counts = summary.as_dict()
        console.print(
            f"{counts['preserved']} preserved, {counts['already_present']} already present, "
            f"{counts['parse_error']} preserved with parse error, "
            f"{counts['media_missing']} recorded without media, {counts['skipped']} skipped, "
            f"{counts['failed']} failed "
            f"({counts['new_captures']} new captures)",
            highlight=False,
        )
    if not summary.ok:
        raise typer.Exit(1)
