"""actor positions: where a unit was known to be, with its source; geolocation bases cite one

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 09:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actor_positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("place_name", sa.Text(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("start", sa.Date(), nullable=True),
        sa.Column("end", sa.Date(), nullable=True),
        sa.Column("source_asset_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"]),
        sa.ForeignKeyConstraint(["source_asset_id"], ["assets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_actor_positions_actor_id", "actor_positions", ["actor_id"])
    with op.batch_alter_table("attribution_bases") as batch_op:
        batch_op.add_column(sa.Column("position_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_attribution_bases_position_id", ["position_id"])
        batch_op.create_foreign_key(
            "fk_attribution_bases_position_id", "actor_positions", ["position_id"], ["id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("attribution_bases") as batch_op:
        batch_op.drop_constraint("fk_attribution_bases_position_id", type_="foreignkey")
        batch_op.drop_index("ix_attribution_bases_position_id")
        batch_op.drop_column("position_id")
    op.drop_index("ix_actor_positions_actor_id", table_name="actor_positions")
    op.drop_table("actor_positions")
