"""page claims: a page being captured now, so that a task delivered twice captures it once

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 17:15:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_claims",
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["capture_id"], ["captures.id"]),
        sa.PrimaryKeyConstraint("capture_id"),
    )


def downgrade() -> None:
    op.drop_table("page_claims")
