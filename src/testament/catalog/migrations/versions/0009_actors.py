"""actors: units and people, attributions with bases and history, accountability events

Free-text perpetrator rows become actors (a unit when the row names one, else the
party's force) and attributions with the same confidence and bases; the rows stay, as
the incident's own wording of the allegation.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 04:40:00.000000
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from testament.actors.names import search_key

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

CONFIDENCE = {"tentative": "unverified"}
BASIS = {"geography": "geolocation"}
MIGRATED = "carried over from the incident's free-text perpetrator row"


def _tables() -> None:
    op.create_table(
        "actors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("party", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("rank", sa.String(length=200), nullable=False),
        sa.Column("service_start", sa.Date(), nullable=True),
        sa.Column("service_end", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("search_key", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["actors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_actors_kind", "actors", ["kind"])
    op.create_index("ix_actors_parent_id", "actors", ["parent_id"])
    op.create_table(
        "actor_aliases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_actor_aliases_actor_id", "actor_aliases", ["actor_id"])
    op.create_table(
        "attributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("confidence", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.ForeignKeyConstraint(["reviewer_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attributions_incident_id", "attributions", ["incident_id"])
    op.create_index("ix_attributions_actor_id", "attributions", ["actor_id"])
    op.create_table(
        "attribution_bases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attribution_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("start", sa.Float(), nullable=True),
        sa.Column("end", sa.Float(), nullable=True),
        sa.Column("region", sa.JSON(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["attribution_id"], ["attributions.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attribution_bases_attribution_id", "attribution_bases", ["attribution_id"])
    op.create_index("ix_attribution_bases_asset_id", "attribution_bases", ["asset_id"])
    op.create_table(
        "attribution_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attribution_id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["attribution_id"], ["attributions.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_attribution_history_attribution_id", "attribution_history", ["attribution_id"]
    )
    op.create_table(
        "accountability_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("authority", sa.Text(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("source_asset_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"]),
        sa.ForeignKeyConstraint(["source_asset_id"], ["assets.id"]),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_accountability_events_kind", "accountability_events", ["kind"])
    op.create_index(
        "ix_accountability_events_incident_id", "accountability_events", ["incident_id"]
    )
    op.create_index("ix_accountability_events_actor_id", "accountability_events", ["actor_id"])


def _carry_over_perpetrators() -> None:
    """One actor per distinct (party, unit); one attribution per perpetrator row."""
    connection = op.get_bind()
    meta = sa.MetaData()
    perpetrators = sa.Table("incident_perpetrators", meta, autoload_with=connection)
    incidents = sa.Table("incidents", meta, autoload_with=connection)
    actors = sa.Table("actors", meta, autoload_with=connection)
    attributions = sa.Table("attributions", meta, autoload_with=connection)
    bases = sa.Table("attribution_bases", meta, autoload_with=connection)
    history = sa.Table("attribution_history", meta, autoload_with=connection)
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = connection.execute(
        sa.select(perpetrators, incidents.c.created_by_id)
        .join(incidents, incidents.c.id == perpetrators.c.incident_id)
        .order_by(perpetrators.c.id)
    ).all()
    known: dict[tuple[str, str], int] = {}
    for row in rows:
        party, unit = row.party.strip(), (row.unit or "").strip()
        key = (party, unit)
        if key not in known:
            known[key] = connection.execute(
                actors.insert()
                .values(
                    kind="unit" if unit else "force",
                    name=unit or party,
                    party=party,
                    rank="",
                    notes=MIGRATED,
                    search_key=search_key([unit or party]),
                    created_by="migration 0009",
                    created_at=now,
                )
                .returning(actors.c.id)
            ).scalar_one()
        attribution_id = connection.execute(
            attributions.insert()
            .values(
                incident_id=row.incident_id,
                actor_id=known[key],
                role="unit responsible",
                confidence=CONFIDENCE.get(row.confidence, row.confidence),
                status="proposed",
                note=MIGRATED,
                created_by_id=row.created_by_id,
                created_at=now,
            )
            .returning(attributions.c.id)
        ).scalar_one()
        for basis in row.basis or []:
            connection.execute(
                bases.insert().values(
                    attribution_id=attribution_id, kind=BASIS.get(basis, basis), note=MIGRATED
                )
            )
        connection.execute(
            history.insert().values(
                attribution_id=attribution_id,
                time=now,
                user_id=row.created_by_id,
                kind="migrated",
                details={
                    "perpetrator": {
                        "party": row.party,
                        "unit": row.unit,
                        "confidence": row.confidence,
                        "basis": row.basis,
                    }
                },
            )
        )


def upgrade() -> None:
    _tables()
    _carry_over_perpetrators()


def downgrade() -> None:
    for table in (
        "accountability_events",
        "attribution_history",
        "attribution_bases",
        "attributions",
        "actor_aliases",
        "actors",
    ):
        op.drop_table(table)
