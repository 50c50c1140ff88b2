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
    console.print(", ".join(f"{counts[s]:,} {s}" for s in STATES), highlight=False)
    for job in listed:
        line = f"#{job.id} {job.state:<7} {job.task} {job.subject[:18]}… ({job.queue}"
        line += f", {job.attempts} attempt{'' if job.attempts == 1 else 's'})"
        console.print(escape(line), highlight=False)
        if job.error and job.state != "done":
            console.print(f"    {escape(job.error.splitlines()[0])}", highlight=False)
