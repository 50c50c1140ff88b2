"""What `testament ingest` shows as it works: a bar over bytes, a line per noteworthy item.

Kept apart from the command so that the ingest machinery is loaded only when ingest runs.
"""

from __future__ import annotations

from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from testament.cli.common import err_console
from testament.collect.ingest import Outcome, Result

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


def byte_progress(*, quiet: bool) -> Progress:
    """A transient bar on standard error; none when `quiet` or when that is not a terminal."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console.rich,
        transient=True,
        disable=quiet or not err_console.is_terminal,
    )
