"""`testament match`, `testament footage` and `testament index`: finding the same footage."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from testament.cli.common import (
    DatabaseOption,
    HomeOption,
    JsonOption,
    asset_or_fail,
    console,
    counted,
    escape,
    fail,
    loading,
    opened,
    print_json,
)

index_app = typer.Typer(help="The frame-hash index behind matching.", no_args_is_help=True)


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:+.2f}s" if value < 0 else f"{value:.2f}s"


def _still_at(asset_time: float | None, intervals: list[list[float]]) -> str:
    """A still's second, or every interval it matches when no one second is clearly it."""
    if asset_time is not None or not intervals:
        return _seconds(asset_time)
    return ", ".join(f"{start:.2f}-{end:.2f}s" for start, end in intervals)


def _print_matches(result: dict[str, Any]) -> None:
    from rich.table import Table

    query = result["query"]
    length = f", {query['duration']:.1f}s" if query["duration"] else ""
    console.print(f"query {query['sha256'][:12]} ({query['kind']}{length})", highlight=False)
    if not result["matches"]:
        console.print("no footage in the locker matches")
        return
    table = Table(
        "asset", "relation", "score", "query cov.", "asset cov.", "offset", "still at", "filename"
    )
    for found in result["matches"]:
        table.add_row(
            found["sha256"][:12],
            found["relation"],
            f"{found['score']:.2f}",
            f"{found['query_coverage']:.0%}",
            f"{found['asset_coverage']:.0%}",
            _seconds(found["offset"]),
            _still_at(found["asset_time"], found["asset_times"]),
            escape(found["filename"] or ""),
        )
    console.print(table)


def match(
    path: Annotated[Path, typer.Argument(help="A still or video, ingested or not.")],
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """What footage in the locker does this file show, and at which second?"""
    # A query multiplies only small matrices, which OpenBLAS does on one thread anyway; its
    # pool of a thread per core, started when NumPy loads, costs more than the query's
    # matching (0.05 s of 0.5 on 2 cores, more with more). Unless the user chose otherwise.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    with loading():
        from testament.fingerprint.model import FingerprintError
        from testament.footage.query import match_file

    if not path.is_file():
        fail(f"{path}: no such file")
    with opened(home, database_url) as store:
        try:
            result = match_file(store, path)
        except FingerprintError as exc:
            fail(f"{path}: {exc}")
    if json_output:
        print_json(result)
    else:
        _print_matches(result)


def footage(
    sha256_prefix: Annotated[
        str | None, typer.Argument(help="Only the group of this asset.")
    ] = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Groups of assets that show the same footage, earliest known capture first."""
    from testament.footage.groups import footage_groups

    with opened(home, database_url) as store, store.read() as session:
        asset_id = asset_or_fail(session, sha256_prefix).id if sha256_prefix else None
        groups = [group.as_dict() for group in footage_groups(session, asset_id)]
    if json_output:
        print_json(groups)
        return
    if not groups:
        console.print("no footage groups" + (" for this asset" if sha256_prefix else ""))
    for number, group in enumerate(groups, 1):
        _print_group(number, group)


def _print_group(number: int, group: dict[str, Any]) -> None:
    console.rule(f"footage group {number}: {counted(len(group['members']), 'asset')}", align="left")
    for member in group["members"]:
        mark = "[bold green]earliest[/] " if member["earliest"] else ""
        length = f"{member['duration']:.1f}s" if member["duration"] else member["media_type"]
        posted = member["earliest_posted_at"] or "posting time unknown"
        console.print(
            f"  {mark}{member['sha256'][:12]} {length:>7}  posted {posted}  "
            f"{escape(member['filename'] or '')}",
            highlight=False,
        )
    for link in group["links"]:
        where = (
            f" at {_still_at(link['asset_time'], link['asset_times'])}"
            if link["asset_time"] is not None or link["asset_times"]
            else f" offset {round(link['offset'], 2) + 0.0:+.2f}s"
            if link["offset"] is not None
            else ""
        )
        console.print(
            f"    {link['a'][:12]} {link['relation'].replace('_', ' ')} {link['b'][:12]}{where}",
            highlight=False,
        )


@index_app.command("rebuild")
def rebuild(home: HomeOption = None, database_url: DatabaseOption = None) -> None:
    """Rebuild the hash index from the fingerprints in the catalog."""
    from testament.footage.index_cache import LiveIndex

    with opened(home, database_url) as store, store.read() as session:
        index = LiveIndex(store.settings.index_dir).rebuild(session)
    hashes = counted(len(index), "frame hash", "frame hashes")
    console.print(f"index rebuilt: {hashes}", highlight=False)
