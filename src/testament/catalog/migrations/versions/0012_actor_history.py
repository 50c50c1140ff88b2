"""actor history: every change to an actor (created, parent, aliases added and removed)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 09:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "actor_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("time", sa.DateTime(), nullable=False),
        sa.Column("username", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["actors.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_actor_history_actor_id", "actor_history", ["actor_id"])


def downgrade() -> None:
    op.drop_index("ix_actor_history_actor_id", table_name="actor_history")
    op.drop_table("actor_history")
