"""analyses: on-screen text, languages, audio fingerprints and transcripts of assets

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 04:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "analyses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("analyser", sa.String(length=16), nullable=False),
        sa.Column("tool", sa.String(length=128), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("search_text", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("asset_id", "analyser", "tool", "version"),
    )
    op.create_index("ix_analyses_asset_id", "analyses", ["asset_id"])
    op.create_index("ix_analyses_analyser", "analyses", ["analyser"])


def downgrade() -> None:
    op.drop_index("ix_analyses_analyser", table_name="analyses")
    op.drop_index("ix_analyses_asset_id", table_name="analyses")
    op.drop_table("analyses")
