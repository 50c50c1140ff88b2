"""`testament faces`: face clusters across the locker, the store's faces setting, citing a
cluster as an attribution basis. Every use names the workbench user acting (`--as`)."""

from __future__ import annotations

from typing import Annotated, Any

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

USAGE = (
    "testament faces [SHA256] | enable | disable | cite CLUSTER ATTRIBUTION  (each with --as USER)"
)


def faces(
    what: Annotated[
        list[str] | None,
        typer.Argument(
            help="An asset (SHA-256 or prefix) to list its clusters; `enable` or `disable` "
            "faces for the store (admins); `cite CLUSTER ATTRIBUTION` to add the cluster's "
            "sightings to an attribution as bases.",
            show_default=False,
        ),
    ] = None,
    user: Annotated[str, typer.Option("--as", help="The workbench user acting.")] = "",
    note: Annotated[str, typer.Option("--note", help="With cite: why it is cited.")] = "",
    home: HomeOption = None,
    database_url: DatabaseOption = None,
    json_output: JsonOption = False,
) -> None:
    """Face clusters across the locker: leads for comparison, never identifications."""
    words = what or []
    if not user:
        fail("name the workbench user acting with --as USER (faces are for investigators)")
    if words[:1] in (["enable"], ["disable"]) and len(words) == 1:
        _switch(home, database_url, user, words[0] == "enable")
    elif words[:1] == ["cite"]:
        if len(words) != 3 or not all(w.isdigit() for w in words[1:]):
            fail(f"usage: {USAGE}")
        _cite(home, database_url, user, int(words[1]), int(words[2]), note, json_output)
    elif len(words) <= 1:
        _list(home, database_url, user, words[0] if words else None, json_output)
    else:
        fail(f"usage: {USAGE}")


def _acting(session: Any, username: str) -> Any:
    from testament.accounts.users import find_user

    found = find_user(session, username)
    if found is None or not found.active:
        fail(f"no active user {username!r}")
    return found


def _switch(home: Any, database_url: Any, username: str, on: bool) -> None:
    from testament.faces.setting import NotAllowed, set_enabled

    with opened(home, database_url) as store:
        try:
            with store.write() as session:
                changed = set_enabled(store, session, _acting(session, username), on)
        except NotAllowed as exc:
            fail(str(exc))
    state = "on" if on else "off"
    console.print(
        f"faces are {state} for this store" + ("" if changed else " (they were already)"),
        highlight=False,
    )


def _list(
    home: Any, database_url: Any, username: str, prefix: str | None, json_output: bool
) -> None:
    from testament.cli.common import asset_or_fail
    from testament.faces import access
    from testament.faces.clusters import LEAD, cluster_list
    from testament.faces.setting import NotAllowed

    with opened(home, database_url) as store, store.read() as session:
        try:
            access.check(session, _acting(session, username).role)
        except NotAllowed as exc:
            fail(str(exc))
        sha256 = asset_or_fail(session, prefix).sha256 if prefix else None
        clusters = cluster_list(session, sha256)
    if json_output:
        print_json({"lead": LEAD, "clusters": clusters})
        return
    console.print(LEAD, highlight=False)
    for cluster in clusters:
        console.print(
            f"cluster {cluster['id']}: {counted(len(cluster['members']), 'face')} in "
            f"{counted(len(cluster['assets']), 'asset')}"
            + (
                f", cited by {counted(len(cluster['bases']), 'basis', 'bases')}"
                if cluster["bases"]
                else ""
            ),
            highlight=False,
        )
        for sha in cluster["assets"]:
            seen = [m for m in cluster["members"] if m["sha256"] == sha]
            times = [m["time"] for m in seen if m["time"] is not None]
            when = f"at {min(times):.1f}–{max(times):.1f} s" if times else "(image)"
            box = ", ".join(f"{v:.2f}" for v in seen[0]["box"])
            console.print(
                f"  {sha[:12]} {counted(len(seen), 'sighting')} {when}; box {box}",
                highlight=False,
            )
    console.print(counted(len(clusters), "cluster"), highlight=False)


def _cite(
    home: Any,
    database_url: Any,
    username: str,
    cluster_id: int,
    attribution_id: int,
    note: str,
    json_output: bool,
) -> None:
    from testament.actors.actors import ActorError
    from testament.actors.attributions import basis_dict
    from testament.faces import access
    from testament.faces.cite import cite
    from testament.faces.setting import NotAllowed

    with opened(home, database_url) as store:
        try:
            with store.write() as session:
                acting = _acting(session, username)
                access.check(session, acting.role)
                made = [
                    basis_dict(b) for b in cite(session, acting, cluster_id, attribution_id, note)
                ]
        except (NotAllowed, ActorError) as exc:
            fail(str(exc))
    if json_output:
        print_json(made)
        return
    console.print(
        escape(
            f"attribution {attribution_id}: {counted(len(made), 'basis', 'bases')} "
            f"from face cluster {cluster_id} (a lead, not an identification)"
        ),
        highlight=False,
    )
