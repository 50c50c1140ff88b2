"""`testament assets` and `testament show`: what is in the locker."""

from __future__ import annotations

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
    opened,
    print_json,
)


def assets(
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
    media_type: Annotated[
        str | None, typer.Option("--type", help="Only video, image, audio, document or other.")
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            metavar="CODE",
            help="Only assets with on-screen text, transcript or post text in this language "
            "(ISO 639-1, e.g. ru).",
        ),
    ] = None,
    has_text: Annotated[
        bool, typer.Option("--has-text", help="Only assets where on-screen text was read.")
    ] = False,
) -> None:
    """List the preserved originals, in the order they were stored."""
    from rich.table import Table

    from testament.catalog.library import library_query
    from testament.catalog.models import Asset
    from testament.catalog.records import asset_dict

    with opened(home, database_url) as store, store.read() as session:
        query = library_query(
            session,
            media_type=media_type or None,
            language=language.lower() if language else None,
            has_text=has_text,
        ).order_by(None)
        query = query.order_by(Asset.stored_at, Asset.id)
        rows = session.execute(query).scalars().all()
        records = [asset_dict(asset) for asset in rows]
    if json_output:
        print_json(records)
        return
    table = Table("sha256", "type", "size", "duration", "captures", "filename", "stored (UTC)")
    for record in records:
        probe = record["probe"] or {}
        duration = probe.get("duration")
        table.add_row(
            record["sha256"][:12],
            record["media_type"] + (" [yellow](parse error)[/]" if record["parse_error"] else ""),
            f"{record['size']:,}",
            f"{duration:.1f}s" if duration else "",
            str(record["capture_count"]),
            record["original_filename"] or "",
            (record["stored_at"] or "")[:19].replace("T", " "),
        )
    console.print(table)
    console.print(counted(len(records), "asset"), highlight=False)


CAPTURE_LABELS = (
    ("platform", "platform"),
    ("channel", "channel"),
    ("url", "url"),
    ("source_path", "file"),
)


def _capture_line(capture: dict[str, Any]) -> str:
    """How it was collected and where it was seen, each value once and labelled."""
    parts = [f"collected by {capture['method']}"]
    parts += [f"{label} {capture[key]}" for key, label in CAPTURE_LABELS if capture[key]]
    posted = capture["posted_at"]
    return ", ".join(parts) + (f" (posted {posted})" if posted else " (posting time unknown)")


def _flat(value: dict[str, Any]) -> str:
    return ", ".join(f"{key}={item}" for key, item in value.items() if item not in (None, "", {}))


def metadata_lines(probe: dict[str, Any]) -> list[str]:
    """Probe metadata as readable lines: one per field, one per stream."""
    lines = []
    for key, value in probe.items():
        if key == "streams" and isinstance(value, list):
            for number, stream in enumerate(value):
                details = {k: v for k, v in stream.items() if k not in ("index", "tags")}
                lines.append(f"stream {stream.get('index', number)}: {_flat(details)}")
        elif isinstance(value, dict):
            lines.append(f"{key}: {_flat(value)}")
        else:
            lines.append(f"{key}: {value}")
    return lines


def _print_asset(record: dict[str, Any], events: list[dict[str, Any]]) -> None:
    console.print(
        f"[bold]{record['sha256']}[/]  {record['original_filename'] or ''}", highlight=False
    )
    for label, key in (
        ("type", "media_type"),
        ("mime", "mime_type"),
        ("size", "size"),
        ("md5", "md5"),
        ("sha512", "sha512"),
        ("stored", "stored_at"),
        ("stored by", "stored_by"),
    ):
        console.print(f"  {label:<10} {record[key]}", highlight=False)
    if record["parse_error"]:
        console.print(f"  [yellow]parse error[/] {record['parse_error']}", highlight=False)
    if record["probe"]:
        console.print("  [bold]metadata[/]")
        for line in metadata_lines(record["probe"]):
            console.print(f"    {line}", highlight=False, markup=False)
    console.print(f"  [bold]captures[/] ({len(record['captures'])})")
    for capture in record["captures"]:
        console.print(
            f"    #{capture['id']} {_capture_line(capture)}",
            highlight=False,
            markup=False,
        )
        if capture["post_text"]:
            console.print(f"      “{capture['post_text'][:200]}”", highlight=False, markup=False)
    if record["footage"]:
        console.print(
            f"  [bold]footage[/] (same footage as "
            f"{counted(len(record['footage']['members']) - 1, 'other asset')}; "
            "`testament footage` for the group)"
        )
        for link in record["footage"]["links"]:
            console.print(
                f"    {link['a'][:12]} {link['relation'].replace('_', ' ')} {link['b'][:12]}",
                highlight=False,
            )
    if record["same_scene"]:
        console.print(
            f"  [bold]same place[/] (same camera, other footage: "
            f"{counted(len(record['same_scene']), 'asset')}; never a match of this footage)"
        )
        for other in record["same_scene"]:
            console.print(
                f"    {other['sha256'][:12]} {other['media_type']} score {other['score']:.2f}  "
                f"{escape(other['filename'] or '')}",
                highlight=False,
            )
    if record.get("analyses"):
        _print_analyses(record["analyses"])
    console.print(f"  [bold]custody[/] ({counted(len(events), 'event')})")
    for event in events:
        console.print(
            f"    #{event['seq']} {event['time']} {event['actor']} {event['action']}",
            highlight=False,
            markup=False,
        )


def _print_analyses(analyses: list[dict[str, Any]]) -> None:
    """Each analysis with its maker, then what it read (on-screen text, languages,
    the transcript with its times)."""
    from testament.enrich.view import summary

    console.print(f"  [bold]analyses[/] ({len(analyses)})")
    for view in analyses:
        console.print(
            f"    {view['analyser']} ({view['tool']} {view['version']}, {view['created_at']}): "
            f"{summary(view)}",
            highlight=False,
            markup=False,
        )
        result = view["result"] or {}
        for region in result.get("regions", []):
            when = "" if region["start"] is None else f"{region['start']:.0f}–{region['end']:.0f}s "
            mark = ""
            if region["kind"] == "watermark":
                seen = region.get("channel_captures") or []
                captures = counted(len(seen), "capture")
                mark = f" [watermark @{region['channel']}: {captures} of that channel]"
            console.print(f"      {when}“{region['text']}”{mark}", highlight=False, markup=False)
        for item in result.get("texts", []):
            console.print(
                f"      {item['source']}: {item['name']} ({item['confidence']:.2f})",
                highlight=False,
                markup=False,
            )
        for segment in result.get("segments", []):
            console.print(
                f"      {segment['start']:.1f}–{segment['end']:.1f}s “{segment['text']}”",
                highlight=False,
                markup=False,
            )


def show(
    sha256_prefix: Annotated[str, typer.Argument(help="The asset's sha256 or a prefix of it.")],
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """One asset: metadata, every capture, its footage, the same place, analyses, custody."""
    from testament.catalog.records import asset_dict
    from testament.enrich.view import analyses_view
    from testament.footage.groups import footage_groups, same_scene_links
    from testament.locker.custody import event_as_dict, iter_events

    with opened(home, database_url) as store, store.read() as session:
        asset = asset_or_fail(session, sha256_prefix)
        record = asset_dict(asset, with_captures=True)
        groups = footage_groups(session, asset.id)
        record["footage"] = groups[0].as_dict() if groups else None
        record["same_scene"] = same_scene_links(session, asset.id)
        record["analyses"] = analyses_view(session, asset.id)
        events = [event_as_dict(e) for e in iter_events(session, f"asset:{asset.sha256}")]
    record["custody"] = events
    if json_output:
        print_json(record)
    else:
        _print_asset(record, events)
