"""`testament ingest`: collect and preserve files, exports, lists and URLs."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from testament.cli.common import (
    DatabaseOption,
    HomeOption,
    JsonOption,
    console,
    counted,
    fail,
    opened,
    print_json,
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
    from testament.cli.ingest_progress import ProgressReporter, byte_progress
    from testament.collect.dates import parse_datetime
    from testament.collect.ingest import Ingest
    from testament.collect.items import Sighting
    from testament.collect.sources import collect

    try:
        posted: datetime | None = parse_datetime(posted_at) if posted_at else None
    except ValueError as exc:
        fail(f"--posted-at: {exc}")
    context = Sighting(
        method="file", platform=platform, url=url, channel=channel, posted_at=posted, note=note
    )
    with opened(home, database_url) as store:
        items = (item for target in targets for item in collect(target, context, as_files=as_files))
        with byte_progress(quiet=json_output) as progress:
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
            f"({counted(counts['new_captures'], 'new capture')})",
            highlight=False,
        )
    if not summary.ok:
        raise typer.Exit(1)
