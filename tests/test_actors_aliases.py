"""Aliases edited after an actor is made: search follows, the history keeps every change."""

from __future__ import annotations

import pytest

from testament.actors import actors
from testament.actors.actors import ActorError
from testament.store import Store
from tests import web_support as ws


def _unit(store: Store) -> int:
    with store.write() as session:
        return actors.create(session, "inv", kind="unit", name="3rd company", party="A").id


def _found(store: Store, query: str) -> list[str]:
    with store.read() as session:
        return [a.name for a in actors.search(session, query)]


def test_added_and_removed_aliases_are_searched_and_kept_in_history(store: Store) -> None:
    unit = _unit(store)
    with store.write() as session:
        actor = actors.get(session, unit)
        actors.add_alias(session, "inv", actor, "Третья рота", "ru")
        armenian = actors.add_alias(session, "inv", actor, "Երրորդ վաշտ", "hy").id
    assert _found(store, "tretya rota") == ["3rd company"]
    assert _found(store, "Yerrord vasht") == ["3rd company"]
    with store.write() as session:
        actor = actors.get(session, unit)
        with pytest.raises(ActorError, match="already known as"):
            actors.add_alias(session, "inv", actor, "Третья рота", "ru")
        with pytest.raises(ActorError, match="has no alias 999"):
            actors.remove_alias(session, "inv", actor, 999)
        actors.remove_alias(session, "rev", actor, armenian)
    assert _found(store, "Yerrord vasht") == []
    assert _found(store, "Третья") == ["3rd company"]
    with store.read() as session:
        history = actors.history(session, actors.get(session, unit))
    assert [(h["kind"], h["user"]) for h in history] == [
        ("created", "inv"),
        ("alias_added", "inv"),
        ("alias_added", "inv"),
        ("alias_removed", "rev"),
    ]
    assert history[3]["details"]["alias"] == {
        "id": armenian,
        "name": "Երրորդ վաշտ",
        "language": "hy",
    }


def test_aliases_through_the_api_and_the_actor_page(store: Store) -> None:
    unit = _unit(store)
    ws.make_user(store, "ana", "investigator")
    ws.make_user(store, "vic", "viewer")
    browser = ws.client(store)
    token = ws.login(browser, "ana")
    headers = {"x-csrf-token": token}
    added = browser.post(
        f"/api/actors/{unit}/aliases",
        json={"name": "Üçüncü bölük", "language": "az"},
        headers=headers,
    )
    assert added.status_code == 201, added.text
    alias_id = added.json()["aliases"][0]["id"]
    again = browser.post(
        f"/api/actors/{unit}/aliases",
        json={"name": "Üçüncü bölük", "language": "az"},
        headers=headers,
    )
    assert again.status_code == 400 and "already known as" in again.json()["detail"]
    assert (
        browser.post("/api/actors/999/aliases", json={"name": "x"}, headers=headers).status_code
        == 404
    )
    assert _found(store, "Uchunju boluk") == ["3rd company"]
    page = browser.post(
        f"/actors/{unit}/aliases", data={"csrf_token": token, "name": "Рота 3", "language": "ru"}
    )
    assert page.status_code == 303 and page.headers["location"] == f"/actors/{unit}"
    shown = browser.get(f"/actors/{unit}").text
    assert "Рота 3" in shown and "alias added by ana" in shown
    refused = browser.post(f"/actors/{unit}/aliases/999/remove", data={"csrf_token": token})
    assert "error=" in refused.headers["location"]
    assert "has no alias 999" in browser.get(refused.headers["location"]).text
    removed = browser.delete(f"/api/actors/{unit}/aliases/{alias_id}", headers=headers)
    assert removed.status_code == 200 and [a["name"] for a in removed.json()["aliases"]] == [
        "Рота 3"
    ]
    history = browser.get(f"/api/actors/{unit}").json()["history"]
    assert [h["kind"] for h in history] == [
        "created",
        "alias_added",
        "alias_added",
        "alias_removed",
    ]
    viewer = ws.client(store)
    viewer_token = ws.login(viewer, "vic")
    denied = viewer.post(
        f"/api/actors/{unit}/aliases", json={"name": "y"}, headers={"x-csrf-token": viewer_token}
    )
    assert denied.status_code == 403
    assert f'action="/actors/{unit}/aliases"' not in viewer.get(f"/actors/{unit}").text


def test_aliases_from_the_command_line(store: Store, cli) -> None:
    unit = _unit(store)
    ws.make_user(store, "inv2", "investigator")
    ws.make_user(store, "vic", "viewer")
    added = cli("actors", "alias", str(unit), "Շողակաթ", "--language", "hy", "--as", "inv2")
    assert added.exit_code == 0, added.stderr
    alias_id = int(added.stdout.split("alias ")[1].split()[0])
    assert _found(store, "Shoghakat") == ["3rd company"]
    assert "  also: Շողակաթ (hy)" in cli("actors", "show", str(unit), "--as", "vic").stdout
    twice = cli("actors", "alias", str(unit), "Շողակաթ", "--language", "hy", "--as", "inv2")
    assert twice.exit_code == 2 and "already known as" in twice.stderr
    assert len(twice.stderr.strip().splitlines()) == 1
    viewer = cli("actors", "alias", str(unit), "x", "--as", "vic")
    assert viewer.exit_code == 2 and "viewers read actors" in viewer.stderr
    assert cli("actors", "unalias", str(unit), str(alias_id), "--as", "inv2").exit_code == 0
    missing = cli("actors", "unalias", str(unit), str(alias_id), "--as", "inv2")
    assert missing.exit_code == 2 and f"has no alias {alias_id}" in missing.stderr
    assert _found(store, "Shoghakat") == []
