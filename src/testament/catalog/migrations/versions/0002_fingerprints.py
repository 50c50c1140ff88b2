"""fingerprints and footage links

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 20:44:20.452768
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fingerprints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("duration", sa.Double(), nullable=True),
        sa.Column("frame_count", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("tool", sa.String(length=128), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_id"],
            ["assets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("asset_id"),
    )
    op.create_table(
        "footage_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_a_id", sa.Integer(), nullable=False),
        sa.Column("asset_b_id", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("coverage_a", sa.Double(), nullable=False),
        sa.Column("coverage_b", sa.Double(), nullable=False),
        sa.Column("offset", sa.Double(), nullable=True),
        sa.Column("asset_time", sa.Double(), nullable=True),
        sa.Column("segments", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["asset_a_id"],
            ["assets.id"],
        ),
        sa.ForeignKeyConstraint(
            ["asset_b_id"],
            ["assets.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("asset_a_id", "asset_b_id"),
    )
    with op.batch_alter_table("footage_links", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_footage_links_asset_a_id"), ["asset_a_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_footage_links_asset_b_id"), ["asset_b_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("footage_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_footage_links_asset_b_id"))
        batch_op.drop_index(batch_op.f("ix_footage_links_asset_a_id"))

    op.drop_table("footage_links")
    op.drop_table("fingerprints")
