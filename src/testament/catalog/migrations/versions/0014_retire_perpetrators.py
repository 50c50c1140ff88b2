"""retire free-text perpetrator rows: any not yet attributed become attributions; table dropped

Rows written since 0009 were attributed when saved; a row with no attribution of the same
actor and confidence on its incident is attributed here, as 0009 did. The downgrade
brings the table back, filled from the attributions that came from perpetrator rows.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 09:20:00.000000
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from testament.actors.names import search_key

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

CONFIDENCE = {"tentative": "unverified"}
BASIS = {"geography": "geolocation"}
MIGRATED = "carried over from the incident's free-text perpetrator row"
# The note that attributions made from perpetrator rows when an incident was saved carry.
SAVED = "from the incident's perpetrator row"
OLD_BASIS = ("uniform", "insignia", "speech", "self-identification", "geography", "other")


def _tables(connection) -> dict[str, sa.Table]:
    meta = sa.MetaData()
    names = ("incidents", "actors", "attributions", "attribution_bases", "attribution_history")
    found = {n: sa.Table(n, meta, autoload_with=connection) for n in names}
    if sa.inspect(connection).has_table("incident_perpetrators"):
        found["perpetrators"] = sa.Table("incident_perpetrators", meta, autoload_with=connection)
    return found


def _actor(connection, t: dict[str, sa.Table], party: str, unit: str, now: datetime) -> int:
    kind, name = ("unit", unit) if unit else ("force", party)
    actors = t["actors"]
    found = connection.execute(
        sa.select(actors.c.id)
        .where(actors.c.kind == kind, actors.c.name == name, actors.c.party == party)
        .order_by(actors.c.id)
    ).first()
    if found is not None:
        return found[0]
    return connection.execute(
        actors.insert()
        .values(
            kind=kind,
            name=name,
            party=party,
            rank="",
            notes=MIGRATED,
            search_key=search_key([name]),
            created_by="migration 0014",
            created_at=now,
        )
        .returning(actors.c.id)
    ).scalar_one()


def _attribute(connection, t: dict[str, sa.Table], row, now: datetime) -> None:
    """Attribute one perpetrator row unless its incident already holds that attribution."""
    party, unit = row.party.strip(), (row.unit or "").strip()
    actor_id = _actor(connection, t, party, unit, now)
    confidence = CONFIDENCE.get(row.confidence, row.confidence)
    attributions = t["attributions"]
    held = connection.execute(
        sa.select(attributions.c.id).where(
            attributions.c.incident_id == row.incident_id,
            attributions.c.actor_id == actor_id,
            attributions.c.confidence == confidence,
        )
    ).first()
    if held is not None:
        return
    attribution_id = connection.execute(
        attributions.insert()
        .values(
            incident_id=row.incident_id,
            actor_id=actor_id,
            role="unit responsible",
            confidence=confidence,
            status="proposed",
            note=MIGRATED,
            created_by_id=row.created_by_id,
            created_at=now,
        )
        .returning(attributions.c.id)
    ).scalar_one()
    for basis in row.basis or []:
        connection.execute(
            t["attribution_bases"]
            .insert()
            .values(attribution_id=attribution_id, kind=BASIS.get(basis, basis), note=MIGRATED)
        )
    perpetrator = {
        "party": row.party,
        "unit": row.unit,
        "confidence": row.confidence,
        "basis": row.basis,
    }
    connection.execute(
        t["attribution_history"]
        .insert()
        .values(
            attribution_id=attribution_id,
            time=now,
            user_id=row.created_by_id,
            kind="migrated",
            details={"perpetrator": perpetrator},
        )
    )


def upgrade() -> None:
    connection = op.get_bind()
    t = _tables(connection)
    perpetrators, incidents = t["perpetrators"], t["incidents"]
    now = datetime.now(UTC).replace(tzinfo=None)
    rows = connection.execute(
        sa.select(perpetrators, incidents.c.created_by_id)
        .join(incidents, incidents.c.id == perpetrators.c.incident_id)
        .order_by(perpetrators.c.id)
    ).all()
    for row in rows:
        _attribute(connection, t, row, now)
    op.drop_table("incident_perpetrators")


def _row_of(connection, t: dict[str, sa.Table], attribution) -> dict:
    """The perpetrator row an attribution came from: as recorded, else as its actor says."""
    history = t["attribution_history"]
    recorded = connection.execute(
        sa.select(history.c.details).where(
            history.c.attribution_id == attribution.id, history.c.kind == "migrated"
        )
    ).first()
    if recorded is not None and "perpetrator" in (recorded[0] or {}):
        was = recorded[0]["perpetrator"]
        return {
            "party": was["party"],
            "unit": was["unit"] or "",
            "confidence": was["confidence"],
            "basis": was["basis"] or [],
        }
    bases = connection.execute(
        sa.select(t["attribution_bases"].c.kind).where(
            t["attribution_bases"].c.attribution_id == attribution.id
        )
    ).scalars()
    back = {v: k for k, v in BASIS.items()}
    return {
        "party": attribution.party,
        "unit": attribution.name if attribution.kind == "unit" else "",
        "confidence": {v: k for k, v in CONFIDENCE.items()}.get(
            attribution.confidence, attribution.confidence
        ),
        "basis": [b for b in (back.get(k, k) for k in bases) if b in OLD_BASIS],
    }


def downgrade() -> None:
    op.create_table(
        "incident_perpetrators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("party", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("confidence", sa.String(length=16), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    connection = op.get_bind()
    t = _tables(connection)
    attributions, actors = t["attributions"], t["actors"]
    found = connection.execute(
        sa.select(
            attributions.c.id,
            attributions.c.incident_id,
            attributions.c.confidence,
            actors.c.kind,
            actors.c.name,
            actors.c.party,
        )
        .join(actors, actors.c.id == attributions.c.actor_id)
        .where(attributions.c.note.in_((MIGRATED, SAVED)))
        .order_by(attributions.c.id)
    ).all()
    for attribution in found:
        connection.execute(
            t["perpetrators"]
            .insert()
            .values(incident_id=attribution.incident_id, **_row_of(connection, t, attribution))
        )
