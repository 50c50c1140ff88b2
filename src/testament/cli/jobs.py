"""`testament jobs`: what the workers have queued, running, failed (with why) and done."""

from __future__ import annotations

from typing import Annotated

import typer

from testament.cli.common import DatabaseOption, HomeOption, JsonOption, console, escape, opened
from testament.cli.common import print_json as print_json_value


def jobs(
    state: Annotated[
        list[str] | None,
        typer.Option("--state", help="Only jobs in this state (queued, running, failed, done)."),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many jobs listed.")] = 50,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Jobs run by workers on preserved assets: queued, running, failed (with the error), done."""
    from testament.jobs import state as job_state
    from testament.jobs.models import STATES

    wanted = state or []
    bad = [s for s in wanted if s not in STATES]
    if bad:
        from testament.cli.common import fail

        fail(f"--state: unknown state {bad[0]!r} (one of {', '.join(STATES)})")
    with opened(home, database_url) as store, store.read() as session:
        counts = job_state.counts(session)
        listed = [job_state.JobView.of(r) for r in job_state.listing(session, wanted, limit)]
    if json_output:
        print_json_value({"counts": counts, "jobs": [job.as_dict() for job in listed]})
        return
    from rich.table import Table

    console.print(", ".join(f"{counts[s]:,} {s}" for s in STATES), highlight=False)
    if not listed:
        return
    table = Table("job", "state", "task", "on", "queue", "attempts", "error")
    for job in listed:
        error = job.error.splitlines()[0] if job.error and job.state != "done" else ""
        kind, _, name = job.subject.partition(":")
        on = name[:12] if kind == "asset" else f"{kind} {name}"
        table.add_row(
            str(job.id), job.state, job.task, on, job.queue, str(job.attempts), escape(error)
        )
    console.print(table)
