"""pages: captures of a post's page (screenshot, web archive, certificates, headers),
and each watched post's page capture schedule (due, failures, last error)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 03:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "page_captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("final_url", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("screenshot_asset_id", sa.Integer(), nullable=False),
        sa.Column("archive_asset_id", sa.Integer(), nullable=False),
        sa.Column("certificates_asset_id", sa.Integer(), nullable=True),
        sa.Column("headers_asset_id", sa.Integer(), nullable=False),
        sa.Column("tool", sa.String(length=128), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("captured_at", sa.DateTime(), nullable=False),
        sa.Column("captured_by", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["capture_id"], ["captures.id"]),
        sa.ForeignKeyConstraint(["screenshot_asset_id"], ["assets.id"]),
        sa.ForeignKeyConstraint(["archive_asset_id"], ["assets.id"]),
        sa.ForeignKeyConstraint(["certificates_asset_id"], ["assets.id"]),
        sa.ForeignKeyConstraint(["headers_asset_id"], ["assets.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("page_captures", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_page_captures_capture_id"), ["capture_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_page_captures_screenshot_asset_id"),
            ["screenshot_asset_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_page_captures_archive_asset_id"), ["archive_asset_id"], unique=False
        )
    with op.batch_alter_table("watch_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("page_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(
            sa.Column("page_failures", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("page_error", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_watch_posts_page_due_at"), ["page_due_at"])


def downgrade() -> None:
    with op.batch_alter_table("watch_posts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_watch_posts_page_due_at"))
        batch_op.drop_column("page_error")
        batch_op.drop_column("page_failures")
        batch_op.drop_column("page_due_at")
    with op.batch_alter_table("page_captures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_page_captures_archive_asset_id"))
        batch_op.drop_index(batch_op.f("ix_page_captures_screenshot_asset_id"))
        batch_op.drop_index(batch_op.f("ix_page_captures_capture_id"))
    op.drop_table("page_captures")
