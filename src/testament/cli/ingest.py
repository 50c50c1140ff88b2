"""`testament ingest`: collect and preserve files, exports, lists and URLs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from testament.cli.common import (
    DatabaseOption,
    HomeOption,
    JsonOption,
    console,
    counted,
    escape,
    fail,
    opened,
    print_json,
)

if TYPE_CHECKING:
    from testament.jobs.state import JobView
    from testament.store import Store


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
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="With a queue configured, return only once the workers have processed "
            "every item (without a queue, ingest always does).",
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
    from testament.jobs.dispatch import QueueError

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
            run = Ingest(store, reporter)
            try:
                summary = run.run(items)
            except QueueError as exc:
                fail(str(exc))
        failed_jobs = wait_for_jobs(store, run.run_id, quiet=json_output) if wait else None
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
            | ({} if failed_jobs is None else {"failed_jobs": [j.as_dict() for j in failed_jobs]})
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
    if run.run_id is not None and not wait and not json_output:
        console.print("processing continues in the workers: see testament jobs", highlight=False)
    if not summary.ok or failed_jobs:
        raise typer.Exit(1)


def wait_for_jobs(store: Store, run: str | None, *, quiet: bool) -> list[JobView]:
    """Wait until the workers have done every job this run queued; the ones that failed."""
    import time

    from testament.jobs import state

    if run is None:
        return []  # the embedded default: every step ran before `ingest` returned
    with console.status("waiting for workers", spinner="dots") if not quiet else _Quiet() as shown:
        while True:
            with store.read() as session:
                left = state.pending(session, run)
            if left == 0:
                break
            if not quiet:
                shown.update(f"waiting for workers: {counted(left, 'job')} to go")
            time.sleep(0.5)
    with store.read() as session:
        failed = [state.JobView.of(r) for r in state.failed_in_run(session, run)]
    if not quiet:
        for job in failed:
            first = (job.error or "").splitlines()[0] if job.error else "failed"
            console.print(f"failed {job.task} {job.subject}: {escape(first)}", highlight=False)
    return failed


class _Quiet:
    def __enter__(self) -> _Quiet:
        return self

    def __exit__(self, *_: object) -> None:
        pass

    def update(self, _text: str) -> None:
        pass
