"""`testament watch ...`, `testament alerts` and `testament recheck`: following sources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

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
from testament.collect.items import shown

if TYPE_CHECKING:
    from testament.watch.poller import PollOutcome

app = typer.Typer(
    help="Watch channels, feeds, pages and folders for new posts.", no_args_is_help=True
)

IdArgument = Annotated[int, typer.Argument(help="The source's id (see 'testament watch list').")]


def _safe(value: Any, limit: int = 80) -> str:
    """A value from a post or a server, printed inert: one line, no markup, no escapes."""
    return escape(shown("" if value is None else str(value), limit))


@app.command("add")
def add(
    address: Annotated[str, typer.Argument(help="Channel, feed or page URL, or a folder.")],
    kind: Annotated[
        str | None,
        typer.Option(help="telegram, feed, ytdlp or folder (default: guessed from the address)."),
    ] = None,
    every: Annotated[str, typer.Option(help="How often to poll (30s, 15m, 2h, 1d).")] = "15m",
    since: Annotated[
        str | None, typer.Option(help="On the first run, collect posts back to this date.")
    ] = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Start watching a source; its first poll is due at once."""
    from testament.watch.sources import (
        SourceError,
        SourceView,
        add_source,
        parse_duration,
        parse_since,
    )

    try:
        interval = parse_duration(every)
        start = parse_since(since) if since else None
        with opened(home, database_url) as store:
            source = add_source(store, address, kind, interval, start)
    except SourceError as exc:
        fail(str(exc))
    if json_output:
        print_json(SourceView(source).as_dict())
        return
    console.print(
        f"source {source.id}: {source.kind} {_safe(source.url, 120)} every {escape(every)}",
        highlight=False,
    )


@app.command("list")
def list_(
    home: HomeOption = None, database_url: DatabaseOption = None, json_output: JsonOption = False
) -> None:
    """Sources, their last run and error, counts, pages waiting for capture and next run."""
    from rich.table import Table

    from testament.watch.page_records import page_status
    from testament.watch.sources import SourceView, list_sources

    with opened(home, database_url) as store:
        views = [SourceView(s).as_dict() for s in list_sources(store)]
        with store.read() as session:
            pages = page_status(session, [v["id"] for v in views])
    for v in views:
        v.update(pages[v["id"]])
    if json_output:
        print_json(views)
        return
    table = Table(
        "id",
        "kind",
        "name",
        "status",
        "every",
        "last run",
        "next run",
        "posts",
        "media",
        "alerts",
        "pages waiting",
        "last error",
    )
    for v in views:
        table.add_row(
            str(v["id"]),
            v["kind"],
            _safe(v["name"], 40),
            v["status"] + (f" (failing ×{v['failures']})" if v["failures"] else ""),
            _every(v["every_seconds"]),
            _when(v["last_run_at"]),
            _when(v["next_run_at"]) if v["status"] == "active" else "-",
            str(v["posts"]),
            str(v["media"]),
            str(v["alerts"]),
            str(v["pages_waiting"]),
            _safe(v["last_error"] or "", 60),
        )
    console.print(table)


def _every(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _when(value: str | None) -> str:
    return value[:19].replace("T", " ") if value else "never"


def _status(source_id: int, status: str, home: Any, database_url: Any) -> None:
    from testament.watch.sources import SourceError, set_status

    try:
        with opened(home, database_url) as store:
            source = set_status(store, source_id, status)
    except SourceError as exc:
        fail(str(exc))
    console.print(f"source {source.id}: {status}", highlight=False)


@app.command()
def pause(
    source_id: IdArgument, home: HomeOption = None, database_url: DatabaseOption = None
) -> None:
    """Stop polling a source until it is resumed."""
    _status(source_id, "paused", home, database_url)


@app.command()
def resume(
    source_id: IdArgument, home: HomeOption = None, database_url: DatabaseOption = None
) -> None:
    """Poll a paused source again, starting now."""
    _status(source_id, "active", home, database_url)


@app.command()
def remove(
    source_id: IdArgument, home: HomeOption = None, database_url: DatabaseOption = None
) -> None:
    """Stop watching a source; what it collected stays in the locker."""
    _status(source_id, "removed", home, database_url)


def _report(outcome: PollOutcome) -> None:
    line = (
        f"source {outcome.source_id}: {counted(outcome.posts, 'new post')}, "
        f"{counted(outcome.media, 'file')} preserved"
    )
    if outcome.already:
        line += f", {outcome.already} already collected"
    if outcome.pages:
        line += f", {counted(outcome.pages, 'page')} captured"
    if outcome.pages_queued:
        line += f", {counted(outcome.pages_queued, 'page')} queued for capture"
    if outcome.pages_failed:
        line += (
            f"; {counted(outcome.pages_failed, 'page')} not captured (tried again later): "
            f"{_safe(outcome.page_error, 200)}"
        )
    if outcome.error:
        line += f"; [red]error:[/] {_safe(outcome.error, 200)}"
    console.print(line, highlight=False)


@app.command()
def run(
    once: Annotated[
        bool, typer.Option("--once", help="One round of due sources, then stop.")
    ] = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Poll due sources; without --once keep running (Ctrl-C stops after the current post)."""
    import signal
    import threading

    from testament.watch.scheduler import Scheduler
    from testament.watch.sources import SourceError

    with opened(home, database_url) as store:
        try:
            scheduler = Scheduler(store)
        except (SourceError, ValueError) as exc:
            fail(str(exc))
        if once:
            done = scheduler.poll_due(_report)
            if not done.outcomes:
                console.print("no source is due", highlight=False)
            if done.removed:
                console.print(f"{counted(done.removed, 'post')} seen removed", highlight=False)
            return
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        console.print("watching; Ctrl-C to stop", highlight=False)
        scheduler.run(stop, _report)


def alerts(
    since: Annotated[str | None, typer.Option(help="Only alerts from this date on.")] = None,
    kind: Annotated[
        list[str] | None,
        typer.Option(
            help="Only these kinds (new_footage, known_footage, media_missing, "
            "source_error, post_removed)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 200,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """What the watchers found, newest first."""
    from rich.table import Table

    from testament.watch.alerts import KINDS, list_alerts
    from testament.watch.sources import SourceError, parse_since

    unknown = [k for k in kind or () if k not in KINDS]
    if unknown:
        fail(f"unknown alert kind {unknown[0]!r} (one of {', '.join(KINDS)})")
    try:
        start = parse_since(since) if since else None
    except SourceError as exc:
        fail(str(exc))
    with opened(home, database_url) as store:
        found = list_alerts(store, start, kind, limit)
    if json_output:
        print_json(found)
        return
    table = Table("id", "time (UTC)", "kind", "source", "post", "text", "about")
    for a in found:
        post = a["post"] or {}
        table.add_row(
            str(a["id"]),
            _when(a["created_at"]),
            a["kind"],
            _safe((a["source"] or {}).get("id")),
            _safe(post.get("url") or post.get("key"), 60),
            _safe(post.get("text"), 40),
            _safe(_about(a), 80),
        )
    console.print(table)


def _about(alert: dict[str, Any]) -> str:
    details = alert["details"] or {}
    if alert["kind"] == "known_footage":
        first = details.get("earliest_capture") or {}
        incidents = ", ".join(f"#{i['id']}" for i in details.get("incidents", [])) or "none"
        size = len(details.get("group", []))
        seen = f"group of {size}" if size > 1 else "same file"
        return (
            f"{seen}; incidents {incidents}; "
            f"earliest {first.get('url') or first.get('channel') or '?'} "
            f"{first.get('posted_at') or ''}".strip()
        )
    if alert["kind"] == "media_missing":
        return "; ".join(m.get("reason") or "" for m in details.get("missing", []))
    if alert["kind"] in ("source_error", "post_removed"):
        return details.get("error") or details.get("reason") or alert["message"]
    return ", ".join(s[:12] for s in details.get("sha256", []))


def recheck(
    older_than: Annotated[
        str | None, typer.Option(help="Only posts found at least this long ago (7d, 12h).")
    ] = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Ask whether each preserved post is still online; record those now removed."""
    from dataclasses import asdict

    from testament.watch.net import Http
    from testament.watch.removal import recheck as run_recheck
    from testament.watch.sources import SourceError, parse_duration

    try:
        age = parse_duration(older_than) if older_than else None
        http = Http()
    except (SourceError, ValueError) as exc:
        fail(str(exc))
    with opened(home, database_url) as store:
        checks = run_recheck(store, http, older_than=age)
    if json_output:
        print_json([asdict(c) for c in checks])
        return
    for c in checks:
        console.print(
            f"post {c.post_id}: {c.state} ({_safe(c.reason, 100)}) {_safe(c.url, 100)}",
            highlight=False,
        )
    removed = sum(1 for c in checks if c.state == "removed")
    unreachable = sum(1 for c in checks if c.state == "unreachable")
    console.print(
        f"{counted(len(checks), 'post')} checked: {removed} removed, {unreachable} unreachable",
        highlight=False,
    )
