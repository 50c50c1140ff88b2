"""`testament actors`, `attribute` and `accountability`: who, on what basis, what came of it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated

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

app = typer.Typer(help="Forces, formations, units and individuals.", no_args_is_help=True)
attribute_app = typer.Typer(
    help="Attribute incidents to actors, on stated bases; review attributions.",
    no_args_is_help=True,
)
accountability_app = typer.Typer(
    help="What the authorities did: events with their preserved sources; the case view.",
    no_args_is_help=True,
)
AsOption = Annotated[str, typer.Option("--as", help="The workbench user acting.")]


@contextmanager
def _one_line_errors() -> Iterator[None]:
    """A rule's refusal as the command's one-line error; the transaction inside is undone."""
    from testament.actors.actors import ActorError

    try:
        yield
    except ActorError as exc:
        fail(str(exc))


def _user(session, username: str):
    from testament.accounts.users import find_user

    user = find_user(session, username)
    if user is None or not user.active:
        fail(f"no active user {username!r}")
    return user


def _day(value: str | None, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{what}: {value!r} is not a date (YYYY-MM-DD)")


@app.command("add")
def add_actor(
    kind: Annotated[str, typer.Argument(help="force, formation, unit or individual")],
    name: Annotated[str, typer.Argument(help="Name, or a description of an unnamed person")],
    party: Annotated[str, typer.Option("--party", help="The party it belongs to")] = "",
    parent: Annotated[int | None, typer.Option("--parent", help="Parent actor id")] = None,
    rank: Annotated[str, typer.Option("--rank")] = "",
    served_from: Annotated[str | None, typer.Option("--from", help="Service start")] = None,
    served_to: Annotated[str | None, typer.Option("--to", help="Service end")] = None,
    alias: Annotated[
        list[str] | None, typer.Option("--alias", help="Another name; NAME or NAME@LANG")
    ] = None,
    author: AsOption = "",
    as_json: JsonOption = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add an actor."""
    from testament.actors import actors
    from testament.actors.actors import AliasIn

    aliases = [AliasIn(*a.rsplit("@", 1)) if "@" in a else AliasIn(a) for a in alias or []]
    start, end = _day(served_from, "--from"), _day(served_to, "--to")
    with opened(home, database_url) as store, _one_line_errors(), store.write() as session:
        user = _user(session, author) if author else None
        if user is not None and user.role == "viewer":
            fail("viewers read actors; investigators add them")
        actor = actors.create(
            session,
            user.username if user else store.actor,
            kind=kind,
            name=name,
            party=party,
            parent_id=parent,
            rank=rank,
            service_start=start,
            service_end=end,
            aliases=aliases,
        )
        record = actors.actor_dict(actor)
    if as_json:
        print_json(record)
    else:
        console.print(f"actor {record['id']}: {escape(record['name'])} ({kind})", highlight=False)


@app.command("parent")
def set_parent(
    actor_id: Annotated[int, typer.Argument()],
    parent: Annotated[
        int | None, typer.Argument(help="Parent actor id; leave out for none")
    ] = None,
    author: AsOption = "",
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Place an actor under a parent unit (cycles are refused)."""
    from testament.actors import actors

    _edit(
        home, database_url, author, actor_id, lambda s, who, a: actors.set_parent(s, who, a, parent)
    )
    console.print(f"actor {actor_id}: parent {parent if parent else 'none'}", highlight=False)


@app.command("alias")
def add_alias(
    actor_id: Annotated[int, typer.Argument()],
    name: Annotated[str, typer.Argument(help="Another name, in any script")],
    language: Annotated[str, typer.Option("--language", help="Its language tag: hy, az-Cyrl")] = "",
    author: AsOption = "",
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Give an actor another name; search finds it by that name at once."""
    from testament.actors import actors

    alias_id = _edit(
        home,
        database_url,
        author,
        actor_id,
        lambda s, who, a: actors.add_alias(s, who, a, name, language).id,
    )
    console.print(escape(f"actor {actor_id}: alias {alias_id} {name.strip()}"), highlight=False)


@app.command("unalias")
def remove_alias(
    actor_id: Annotated[int, typer.Argument()],
    alias_id: Annotated[int, typer.Argument(help="The alias's id (actors show --json)")],
    author: AsOption = "",
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Remove one of an actor's names; its history keeps what it was."""
    from testament.actors import actors

    _edit(
        home,
        database_url,
        author,
        actor_id,
        lambda s, who, a: actors.remove_alias(s, who, a, alias_id),
    )
    console.print(f"actor {actor_id}: alias {alias_id} removed", highlight=False)


@app.command("position")
def add_position(
    actor_id: Annotated[int, typer.Argument()],
    source: Annotated[
        str, typer.Option("--source", help="SHA-256 of the preserved original placing it there")
    ],
    place: Annotated[str, typer.Option("--place", help="Place name")] = "",
    latitude: Annotated[float | None, typer.Option("--lat")] = None,
    longitude: Annotated[float | None, typer.Option("--lon")] = None,
    start: Annotated[str | None, typer.Option("--from", help="YYYY-MM-DD")] = None,
    end: Annotated[str | None, typer.Option("--to", help="YYYY-MM-DD")] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    author: AsOption = "",
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Record where a unit was known to be; a geolocation basis can then cite it (~ID)."""
    from testament.actors import actors
    from testament.actors.actors import PositionIn

    given = PositionIn(
        source, place, latitude, longitude, _day(start, "--from"), _day(end, "--to"), note
    )
    position_id = _edit(
        home,
        database_url,
        author,
        actor_id,
        lambda s, who, a: actors.add_position(s, who, a, given).id,
    )
    console.print(f"actor {actor_id}: position {position_id}", highlight=False)


def _edit(home, database_url, author: str, actor_id: int, change):
    """Apply `change(session, username, actor)` in one transaction; returns what it returns."""
    from testament.actors import actors

    with opened(home, database_url) as store, _one_line_errors(), store.write() as session:
        return change(session, _editor(session, store, author), actors.get(session, actor_id))


def _editor(session, store, author: str) -> str:
    """Who the history names: the workbench user given with --as, else the store's actor."""
    if not author:
        return store.actor
    user = _user(session, author)
    if user.role == "viewer":
        fail("viewers read actors; investigators change them")
    return user.username


@app.command("list")
def list_actors(
    query: Annotated[str, typer.Argument(help="Name or alias, in any script")] = "",
    kind: Annotated[str | None, typer.Option("--kind")] = None,
    viewer: Annotated[
        str, typer.Option("--as", help="List as this user (individuals need investigator)")
    ] = "",
    as_json: JsonOption = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Find actors by name or alias, whatever the script or transliteration."""
    from testament.actors import actors

    with opened(home, database_url) as store, store.read() as session:
        role = _user(session, viewer).role if viewer else "admin"
        found = [actors.actor_dict(a) for a in actors.search(session, query, kind=kind, role=role)]
    if as_json:
        print_json(found)
        return
    for a in found:
        names = ", ".join(x["name"] for x in a["aliases"])
        line = f"{a['id']:>5}  {a['kind']:<10} {a['name']}"
        line += f" [{names}]" if names else ""
        line += f" — {a['party']}" if a["party"] else ""
        console.print(escape(line), highlight=False)


@app.command("show")
def show_actor(
    actor_id: Annotated[int, typer.Argument()],
    viewer: Annotated[str, typer.Option("--as", help="The user looking (recorded in the audit)")],
    as_json: JsonOption = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """An actor with its incidents, bases and accountability events."""
    from testament.actors import profile

    with opened(home, database_url) as store, _one_line_errors(), store.write() as session:
        user = _user(session, viewer)
        record = profile.view(session, user.username, user.role, actor_id, client="cli")
    if as_json:
        print_json(record)
        return
    actor = record["actor"]
    console.print(escape(f"{actor['name']} ({actor['kind']}) — {actor['party'] or 'no party'}"))
    for parent in record["lineage"]:
        console.print(escape(f"  under: {parent['name']} ({parent['kind']})"), highlight=False)
    for alias in actor["aliases"]:
        language = f" ({alias['language']})" if alias["language"] else ""
        console.print(escape(f"  also: {alias['name']}{language}"), highlight=False)
    for p in actor.get("positions", []):
        console.print(escape(f"  position {p['id']}: {_position_line(p)}"), highlight=False)
    for a in record["attributions"]:
        bases = ", ".join(b["kind"] for b in a["bases"]) or "no basis"
        console.print(
            escape(
                f"  incident {a['incident_id']}: {a['role']}, {a['confidence']}, "
                f"{a['status']} ({bases})"
            ),
            highlight=False,
        )
    for e in record["events"]:
        console.print(escape(f"  {e['day']} {e['kind']} — {e['authority']}"), highlight=False)


def _position_line(position: dict) -> str:
    where = position["place_name"] or "unnamed place"
    if position["latitude"] is not None:
        where += f" ({position['latitude']}, {position['longitude']})"
    start, end = position["start"] or "?", position["end"] or "?"
    return f"{where}, {start} – {end}, source {position['source_sha256'][:12]}"


def _dated(value):
    """Dates as ISO text, through lists and dicts, for JSON output."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _dated(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dated(v) for v in value]
    return value


def _basis(text: str):
    """KIND:SHA256[@START-END][#X,Y,W,H][~POSITION] as a basis."""
    from testament.actors.attributions import BasisIn

    kind, _, rest = text.partition(":")
    position = None
    if "~" in rest:
        rest, _, number = rest.partition("~")
        if not number.strip().isdigit():
            fail(f"--basis {text!r}: the position is its number, as in ~3")
        position = int(number)
    region = None
    if "#" in rest:
        rest, _, box = rest.partition("#")
        try:
            region = [float(x) for x in box.split(",")]
        except ValueError:
            fail(f"--basis {text!r}: the region is four numbers X,Y,W,H")
    start = end = None
    if "@" in rest:
        rest, _, span = rest.partition("@")
        low, _, high = span.partition("-")
        try:
            start, end = float(low), float(high) if high else None
        except ValueError:
            fail(f"--basis {text!r}: the segment is START-END in seconds")
    return BasisIn(
        kind=kind.strip(),
        sha256=rest.strip() or None,
        start=start,
        end=end,
        region=region,
        position_id=position,
    )


@attribute_app.command("add")
def attribute(
    incident_id: Annotated[int, typer.Argument()],
    actor_id: Annotated[int, typer.Argument()],
    role: Annotated[
        str, typer.Option("--role", help="direct perpetrator, present, commander, unit responsible")
    ],
    confidence: Annotated[
        str, typer.Option("--confidence", help="confirmed, probable, possible, unverified")
    ],
    author: AsOption,
    basis: Annotated[
        list[str] | None,
        typer.Option("--basis", help="KIND:SHA256[@START-END][#X,Y,W,H][~POSITION], repeatable"),
    ] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    as_json: JsonOption = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Propose that an actor took part in an incident."""
    from testament.actors import attributions
    from testament.actors.attributions import AttributionIn

    bases = [_basis(b) for b in basis or []]
    with opened(home, database_url) as store, _one_line_errors(), store.write() as session:
        given = AttributionIn(incident_id, actor_id, role, confidence, bases, note)
        made = attributions.propose(session, _user(session, author), given)
        record = attributions.attribution_dict(made)
    if as_json:
        print_json(record)
    else:
        console.print(
            escape(
                f"attribution {record['id']}: incident {incident_id} → {record['actor']} "
                f"({role}, {confidence}), proposed"
            ),
            highlight=False,
        )


@attribute_app.command("basis")
def add_basis(
    attribution_id: Annotated[int, typer.Argument()],
    basis: Annotated[str, typer.Argument(help="KIND:SHA256[@START-END][#X,Y,W,H][~POSITION]")],
    author: AsOption,
    position: Annotated[
        int | None,
        typer.Option(
            "--position",
            metavar="ID",
            min=1,
            help="The unit position a geolocation basis cites (the same as ~ID).",
        ),
    ] = None,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add a basis to an attribution (a confirmed one goes back to proposed)."""
    from testament.actors import attributions

    given = _basis(basis)
    if position is not None:
        if given.position_id not in (None, position):
            fail(f"--position {position} and {basis!r} name different positions")
        given.position_id = position
    with opened(home, database_url) as store, _one_line_errors(), store.write() as session:
        found = attributions.get_attribution(session, attribution_id)
        attributions.add_basis(session, _user(session, author), found, given)
        status = found.status
    console.print(f"attribution {attribution_id}: {given.kind} basis added, {status}")


@attribute_app.command("review")
def review(
    attribution_id: Annotated[int, typer.Argument()],
    decision: Annotated[str, typer.Argument(help="confirmed, disputed or rejected")],
    reviewer: AsOption,
    note: Annotated[str, typer.Option("--note")] = "",
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """A reviewer's decision; confirming needs someone who did not propose or change it."""
    from testament.actors import attributions

    with opened(home, database_url) as store, _one_line_errors(), store.write() as session:
        found = attributions.get_attribution(session, attribution_id)
        attributions.review(session, _user(session, reviewer), found, decision, note)
    console.print(f"attribution {attribution_id}: {decision}", highlight=False)


@attribute_app.command("list")
def list_attributions(
    incident_id: Annotated[int, typer.Argument()],
    as_json: JsonOption = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """An incident's attributions with their bases, status and reviewer."""
    from testament.actors import attributions

    with opened(home, database_url) as store, store.read() as session:
        found = [
            attributions.attribution_dict(a)
            for a in attributions.for_incident(session, incident_id)
        ]
    if as_json:
        print_json(found)
        return
    for a in found:
        bases = ", ".join(b["kind"] for b in a["bases"]) or "no basis"
        console.print(
            escape(
                f"{a['id']:>5}  {a['actor']} ({a['party'] or 'no party'}): {a['role']}, "
                f"{a['confidence']}, {a['status']}"
                f"{' by ' + a['reviewer'] if a['reviewer'] else ''} — {bases}"
            ),
            highlight=False,
        )


@accountability_app.command("add")
def add_event(
    kind: Annotated[str, typer.Argument(help="investigation announced, charged, convicted, ...")],
    day: Annotated[str, typer.Option("--date", help="YYYY-MM-DD")],
    authority: Annotated[str, typer.Option("--authority")],
    source: Annotated[
        str, typer.Option("--source", help="A file to preserve, or a preserved asset's SHA-256")
    ],
    author: AsOption,
    incident: Annotated[int | None, typer.Option("--incident")] = None,
    actor: Annotated[int | None, typer.Option("--actor")] = None,
    url: Annotated[str | None, typer.Option("--url", help="Where the source was published")] = None,
    note: Annotated[str, typer.Option("--note")] = "",
    as_json: JsonOption = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Record what an authority did, with its source preserved as an original."""
    from testament.actors import accountability
    from testament.actors.accountability import EventIn
    from testament.actors.sources import preserve

    when = _day(day, "--date")
    assert when is not None
    with opened(home, database_url) as store, _one_line_errors():
        with store.read() as session:
            _user(session, author)
        path = Path(source)
        sha256 = preserve(store, path, url) if path.exists() else source
        with store.write() as session:
            given = EventIn(kind, when, authority, sha256, incident, actor, note)
            record = accountability.event_dict(
                accountability.record(session, _user(session, author), given)
            )
    if as_json:
        print_json(record)
    else:
        console.print(
            escape(
                f"event {record['id']}: {record['day']} {kind} — {authority} "
                f"(source {record['source_sha256'][:12]})"
            ),
            highlight=False,
        )


@accountability_app.command("list")
def list_events(
    incident: Annotated[int | None, typer.Option("--incident")] = None,
    actor: Annotated[int | None, typer.Option("--actor")] = None,
    as_json: JsonOption = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Accountability events in date order."""
    from testament.actors import accountability

    with opened(home, database_url) as store, store.read() as session:
        found = [
            accountability.event_dict(e)
            for e in accountability.events(session, incident_id=incident, actor_id=actor)
        ]
    if as_json:
        print_json(found)
        return
    for e in found:
        about = f"incident {e['incident_id']}" if e["incident_id"] else f"actor {e['actor']}"
        console.print(
            escape(
                f"{e['day']}  {e['kind']:<24} {e['authority']} — {about} "
                f"(source {e['source_sha256'][:12]})"
            ),
            highlight=False,
        )


@accountability_app.command("case")
def case(
    days: Annotated[
        int,
        typer.Option(
            "--days", help="An investigation is stalled after this many days without a charge"
        ),
    ] = 90,
    as_json: JsonOption = False,
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """The case view: stalled investigations, units in several incidents, time to a reaction."""
    from dataclasses import asdict

    from testament.actors import accountability

    with opened(home, database_url) as store, store.read() as session:
        view = accountability.case_view(session, after_days=days)
    if as_json:
        print_json(_dated(asdict(view)))
        return
    console.print(
        f"{len(view.stalled)} of {view.incidents} incidents: investigation announced, "
        f"no charge after {days} days",
        highlight=False,
    )
    for s in view.stalled:
        console.print(
            escape(f"  incident {s.incident_id} {s.title}: announced {s.announced}, {s.days} days"),
            highlight=False,
        )
    console.print(
        f"{counted(len(view.shared_units), 'identified unit')} in more than one incident",
        highlight=False,
    )
    for u in view.shared_units:
        console.print(
            escape(
                f"  {u.name} ({u.party or 'no party'}): "
                f"incidents {', '.join(map(str, u.incidents))}"
            ),
            highlight=False,
        )
    median = "—" if view.median_reaction_days is None else f"{view.median_reaction_days:g} days"
    console.print(
        f"first posting to first official reaction: median {median}; "
        f"{counted(view.without_reaction, 'incident')} without any",
        highlight=False,
    )
    for r in view.reactions:
        console.print(
            escape(f"  incident {r.incident_id}: {r.days} days ({r.reaction}, {r.first_reaction})"),
            highlight=False,
        )
