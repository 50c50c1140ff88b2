"""Actors, attributions and accountability: the model, migrating perpetrator rows, search."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import JSON, column, inspect, select, table, text

from testament.accounts import users
from testament.accounts.models import User
from testament.actors import actors, attributions, names
from testament.actors.actors import ActorError, AliasIn
from testament.actors.attributions import AttributionIn, BasisIn
from testament.actors.models import Actor, Attribution, AttributionBasis
from testament.catalog import database, schema
from testament.catalog.models import utcnow
from testament.investigate import incidents
from testament.investigate.fields import IncidentFields
from testament.investigate.models import Incident
from testament.store import Store
from tests import web_support as ws

ACTOR_TABLES = {
    "actors",
    "actor_aliases",
    "attributions",
    "attribution_bases",
    "attribution_history",
    "accountability_events",
    "actor_history",
    "actor_positions",
}


def _user(store: Store, name: str, role: str) -> int:
    with store.write() as session:
        user, _ = users.add_user(session, name, role)
        session.flush()
        return user.id


def test_the_models_match_migration_0009(store: Store) -> None:
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), schema.Base.metadata)

    def table_of(entry) -> str | None:
        """The table an autogenerate entry concerns: a name, or an object on a table."""
        item = entry[0] if isinstance(entry, list) else entry
        for part in item[1:]:
            if isinstance(part, str):
                return part
            if hasattr(part, "table"):
                return part.table.name
            if getattr(part, "name", None):
                return part.name
        return None

    assert [d for d in diff if table_of(d) in ACTOR_TABLES] == []


PERPETRATORS = table(
    "incident_perpetrators",
    column("incident_id"),
    column("party"),
    column("unit"),
    column("confidence"),
    column("basis", JSON),
)


def _perpetrator_rows(store: Store, *rows: tuple) -> None:
    """Free-text perpetrator rows as the form wrote them before they were retired."""
    names = ("incident_id", "party", "unit", "confidence", "basis")
    with store.engine.begin() as connection:
        connection.execute(PERPETRATORS.insert(), [dict(zip(names, r, strict=True)) for r in rows])


def _two_incidents(store: Store, uid: int) -> tuple[int, int]:
    with store.write() as session:
        maker = session.get(User, uid)
        first = incidents.create(session, maker, IncidentFields(title="Execution near a bridge"))
        second = incidents.create(session, maker, IncidentFields(title="Abuse of a prisoner"))
        return first.id, second.id


def _attributed(store: Store) -> list[tuple]:
    with store.read() as session:
        rows = session.execute(select(Attribution).order_by(Attribution.id)).scalars().unique()
        return [
            (
                a.incident_id,
                a.actor.kind,
                a.actor.name,
                a.actor.party,
                a.confidence,
                [b.kind for b in a.bases],
            )
            for a in rows
        ]


def test_perpetrator_rows_become_attributions_with_their_confidence_and_basis(
    store: Store,
) -> None:
    """A catalog at 0008 with free-text perpetrator rows, upgraded: every incident stays."""
    uid = _user(store, "maker", "investigator")
    ids = _two_incidents(store, uid)
    config = database._alembic_config(store.engine)
    command.downgrade(config, "0008")
    _perpetrator_rows(
        store,
        (ids[0], "Party A", "3rd company", "tentative", ["uniform", "geography"]),
        (ids[0], "Party B", "", "probable", ["speech"]),
        (ids[1], "Party A", "3rd company", "possible", []),
    )
    command.upgrade(config, "head")
    with store.read() as session:
        assert [
            i.id for i in session.execute(select(Incident).order_by(Incident.id)).scalars()
        ] == list(ids)
    assert _attributed(store) == [
        (ids[0], "unit", "3rd company", "Party A", "unverified", ["uniform", "geolocation"]),
        (ids[0], "force", "Party B", "Party B", "probable", ["speech"]),
        (ids[1], "unit", "3rd company", "Party A", "possible", []),
    ]
    with store.read() as session:
        rows = session.execute(select(Attribution).order_by(Attribution.id)).scalars().unique()
        rows = rows.all()
        assert rows[0].actor_id == rows[2].actor_id  # one unit, seen in two incidents
        assert all(a.status == "proposed" and a.created_by_id == uid for a in rows)
        migrated = attributions.history(session, rows[0])
        assert migrated[0]["kind"] == "migrated"
        assert migrated[0]["details"]["perpetrator"]["confidence"] == "tentative"
        assert len(session.execute(select(Actor)).scalars().unique().all()) == 2


def test_rows_left_at_0012_are_attributed_and_the_table_retired(store: Store) -> None:
    """Rows written since 0009 were attributed when saved; any that were not are now."""
    uid = _user(store, "maker", "investigator")
    ids = _two_incidents(store, uid)
    with store.write() as session:
        maker = session.get(User, uid)
        unit = actors.create(session, "maker", kind="unit", name="3rd company", party="Party A")
        saved = attributions.propose(
            session, maker, AttributionIn(ids[0], unit.id, "unit responsible", "unverified")
        )
        saved.note = "from the incident's perpetrator row"
    config = database._alembic_config(store.engine)
    command.downgrade(config, "0012")
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM incident_perpetrators"))
    _perpetrator_rows(
        store,
        (ids[0], "Party A", "3rd company", "tentative", []),  # attributed when it was saved
        (ids[1], "Party C", "", "confirmed", ["self-identification"]),
    )
    command.upgrade(config, "head")
    assert _attributed(store) == [
        (ids[0], "unit", "3rd company", "Party A", "unverified", []),
        (ids[1], "force", "Party C", "Party C", "confirmed", ["self-identification"]),
    ]
    with store.engine.connect() as connection:
        assert not inspect(connection).has_table("incident_perpetrators")
    command.downgrade(config, "0012")
    with store.engine.connect() as connection:
        back = connection.execute(
            text(
                "SELECT incident_id, party, unit, confidence, basis "
                "FROM incident_perpetrators ORDER BY id"
            )
        ).all()
    assert [
        (r[0], r[1], r[2], r[3], json.loads(r[4]) if isinstance(r[4], str) else r[4]) for r in back
    ] == [
        (ids[0], "Party A", "3rd company", "tentative", []),
        (ids[1], "Party C", "", "confirmed", ["self-identification"]),
    ]
    command.upgrade(config, "head")
    assert len(_attributed(store)) == 2  # upgrading again attributes nothing twice


@pytest.fixture
def world(store: Store, tmp_path: Path) -> dict:
    ids = {
        "investigator": _user(store, "inv", "investigator"),
        "reviewer": _user(store, "rev", "reviewer"),
        "viewer": _user(store, "view", "viewer"),
    }
    ids["sha256"] = ws.small_video(store, tmp_path)
    with store.write() as session:
        maker = session.get(User, ids["investigator"])
        ids["incident"] = incidents.create(session, maker, IncidentFields(title="i")).id
        force = actors.create(session, "inv", kind="force", name="Armed forces", party="Party A")
        brigade = actors.create(
            session,
            "inv",
            kind="formation",
            name="1st brigade",
            party="Party A",
            parent_id=force.id,
        )
        ids.update(force=force.id, brigade=brigade.id)
    return ids


def test_a_parent_cycle_is_refused_and_nothing_changes(store: Store, world: dict) -> None:
    with store.write() as session:
        battalion = actors.create(
            session, "inv", kind="unit", name="2nd battalion", parent_id=world["brigade"]
        )
        assert [a.name for a in actors.lineage(battalion)] == ["1st brigade", "Armed forces"]
        force = actors.get(session, world["force"])
        with pytest.raises(ActorError, match="cycle"):
            actors.set_parent(session, "inv", force, battalion.id)
        with pytest.raises(ActorError, match="cycle"):
            actors.set_parent(session, "inv", force, force.id)
        person = actors.create(session, "inv", kind="individual", name="Unnamed soldier")
        with pytest.raises(ActorError, match="individual and cannot be a parent"):
            actors.create(session, "inv", kind="unit", name="x", parent_id=person.id)
    with store.read() as session:
        assert actors.get(session, world["force"]).parent_id is None


BAD_ATTRIBUTIONS = [
    ({"actor_id": 9999}, "no actor 9999"),
    ({"incident_id": 9999}, "no incident 9999"),
    (
        {"bases": [BasisIn("uniform", sha256="abcdef0123")]},
        "no asset with sha256 starting abcdef0123",
    ),
    ({"bases": [BasisIn("uniform")]}, "must point at a preserved asset"),
    ({"confidence": "certain"}, "unknown confidence 'certain'"),
    ({"role": "bystander"}, "unknown role 'bystander'"),
    ({"bases": [BasisIn("official statement", sha256="VIDEO")]}, "must be a preserved document"),
    (
        {"bases": [BasisIn("insignia", sha256="VIDEO", region=[0.9, 0.9, 0.5, 0.5])]},
        "inside the frame",
    ),
]


def test_bad_attributions_are_one_line_and_write_nothing(store: Store, world: dict) -> None:
    """One store for every case (each a fresh transaction); the good basis before a bad one
    is not written either."""
    good = BasisIn("speech", sha256=world["sha256"], start=0.5, end=1.0)
    for bad, message in BAD_ATTRIBUTIONS:
        bases = [
            replace(b, sha256=world["sha256"]) if b.sha256 == "VIDEO" else b
            for b in bad.get("bases", [])
        ]
        given = {
            "incident_id": world["incident"],
            "actor_id": world["brigade"],
            "role": "unit responsible",
            "confidence": "probable",
            **bad,
        }
        given["bases"] = [good, *bases]
        with pytest.raises(ActorError, match=message) as caught, store.write() as session:
            attributions.propose(
                session, session.get(User, world["investigator"]), AttributionIn(**given)
            )
        assert "\n" not in str(caught.value), message
    with store.read() as session:
        assert session.execute(select(Attribution)).first() is None
        assert session.execute(select(AttributionBasis)).first() is None


def test_a_future_date_of_service_is_refused(store: Store) -> None:
    with store.write() as session, pytest.raises(ActorError, match="in the future"):
        actors.create(
            session,
            "inv",
            kind="individual",
            name="x",
            service_start=utcnow().date() + timedelta(days=2),
        )


def test_review_needs_a_second_person_and_edits_reopen(store: Store, world: dict) -> None:
    with store.write() as session:
        inv = session.get(User, world["investigator"])
        rev = session.get(User, world["reviewer"])
        attribution = attributions.propose(
            session,
            inv,
            AttributionIn(
                world["incident"],
                world["brigade"],
                "unit responsible",
                "possible",
                bases=[
                    BasisIn(
                        "insignia",
                        sha256=world["sha256"][:12],
                        start=1.0,
                        end=2.0,
                        region=[0.1, 0.1, 0.2, 0.3],
                    )
                ],
            ),
        )
        attributions.edit(session, rev, attribution, confidence="probable")
        with pytest.raises(ActorError, match="second person"):
            attributions.review(session, rev, attribution, "confirmed")
        with pytest.raises(ActorError, match="only reviewers"):
            attributions.review(session, inv, attribution, "disputed")
        other, _ = users.add_user(session, "rev2", "reviewer")
        session.flush()
        attributions.review(session, other, attribution, "confirmed", "insignia matches")
        assert (attribution.status, attribution.reviewer.username) == ("confirmed", "rev2")
        attributions.edit(session, inv, attribution, confidence="confirmed")
        assert attribution.status == "proposed"
        kinds = [e["kind"] for e in attributions.history(session, attribution)]
        assert kinds == ["proposed", "edited", "review", "edited", "status"]
        assert attribution.bases[0].region == [0.1, 0.1, 0.2, 0.3]


# One person's name in the scripts the material uses, and the spellings that must find it.
NAMES = {
    "Armenian": ("Հայկ Մարտիրոսյան", ["Hayk Martirosyan", "Айк Мартиросян", "martirosyan"]),
    "Azerbaijani Latin": ("Şəhriyar Əliyev", ["Шахрияр Алиев", "Shahriyar Aliyev", "aliyev"]),
    "Azerbaijani Cyrillic": ("Ҹәфәр Гулијев", ["Cəfər Quliyev", "Jafar Guliyev", "Джафар Кулиев"]),
    "Russian": ("Сергей Кузнецов", ["Sergei Kuznetsov", "Sergey Kuznetsov", "кузнецов"]),
    "English": ("Northern Battalion", ["northern", "NORTHERN battalion"]),
}


def test_search_finds_a_name_in_every_script_and_transliteration(store: Store) -> None:
    with store.write() as session:
        actors.create(session, "inv", kind="unit", name="Decoy unit", aliases=[AliasIn("Другой")])
        wanted = {
            script: actors.create(
                session, "inv", kind="unit", name=f"Unit {n}", aliases=[AliasIn(name)]
            ).id
            for n, (script, (name, _)) in enumerate(NAMES.items())
        }
    with store.read() as session:
        for script, (name, queries) in NAMES.items():
            for query in [name, *queries]:
                found = [a.id for a in actors.search(session, query)]
                assert found == [wanted[script]], f"{script}: {query}"


def test_search_hides_individuals_from_viewers(store: Store) -> None:
    with store.write() as session:
        actors.create(session, "inv", kind="individual", name="Ashot Petrosyan")
        actors.create(session, "inv", kind="unit", name="Ashot's company")
    with store.read() as session:
        assert {a.kind for a in actors.search(session, "ashot", role="viewer")} == {"unit"}
        assert len(actors.search(session, "Ашот", role="investigator")) == 2


def test_search_over_thousands_of_actors_is_quick(store: Store) -> None:
    import time

    with store.write() as session:
        for n in range(3000):
            session.add(
                Actor(
                    kind="unit",
                    name=f"Unit {n}",
                    party="P",
                    created_by="t",
                    search_key=names.search_key([f"Unit {n}", f"Подразделение {n}"]),
                )
            )
        actors.create(session, "inv", kind="unit", name="Rare Kuznetsov unit")
    with store.read() as session:
        started = time.perf_counter()
        found = actors.search(session, "Кузнецов")
        elapsed = time.perf_counter() - started
    assert [a.name for a in found] == ["Rare Kuznetsov unit"]
    assert elapsed < 1.0
    with store.read() as session:  # numbers are not folded: 2999 is not 29
        assert [a.name for a in actors.search(session, "подразделение 2999")] == ["Unit 2999"]
