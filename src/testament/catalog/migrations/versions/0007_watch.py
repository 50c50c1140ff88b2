"""watch: sources with their cursors and leases, posts, alerts, removals

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 03:55:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("every_seconds", sa.Integer(), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=True),
        sa.Column("cursor", sa.JSON(), nullable=True),
        sa.Column("next_run_at", sa.DateTime(), nullable=True),
        sa.Column("last_run_at", sa.DateTime(), nullable=True),
        sa.Column("last_success_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("posts_count", sa.Integer(), nullable=False),
        sa.Column("media_count", sa.Integer(), nullable=False),
        sa.Column("alerts_count", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_watch_sources_next_run_at"), "watch_sources", ["next_run_at"], unique=False
    )
    op.create_table(
        "watch_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("post_key", sa.String(length=200), nullable=False),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("channel", sa.Text(), nullable=True),
        sa.Column("author", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("posted_at", sa.DateTime(), nullable=True),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("media_count", sa.Integer(), nullable=False),
        sa.Column("missing_count", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(), nullable=True),
        sa.Column("raw", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(["source_id"], ["watch_sources.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id", "post_key"),
    )
    op.create_index("ix_watch_posts_found_at", "watch_posts", ["found_at"], unique=False)
    op.create_index(op.f("ix_watch_posts_source_id"), "watch_posts", ["source_id"], unique=False)
    op.create_table(
        "watch_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.Column("asset_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("seen_at", sa.DateTime(), nullable=True),
        sa.Column("seen_by", sa.String(length=200), nullable=True),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
        sa.Column("notify_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"]),
        sa.ForeignKeyConstraint(["capture_id"], ["captures.id"]),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"]),
        sa.ForeignKeyConstraint(["post_id"], ["watch_posts.id"]),
        sa.ForeignKeyConstraint(["source_id"], ["watch_sources.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_watch_alerts_created_at", "watch_alerts", ["created_at"], unique=False)
    op.create_index(op.f("ix_watch_alerts_kind"), "watch_alerts", ["kind"], unique=False)
    op.create_index(op.f("ix_watch_alerts_post_id"), "watch_alerts", ["post_id"], unique=False)
    op.create_index(op.f("ix_watch_alerts_source_id"), "watch_alerts", ["source_id"], unique=False)
    op.create_table(
        "watch_post_captures",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["capture_id"], ["captures.id"]),
        sa.ForeignKeyConstraint(["post_id"], ["watch_posts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("post_id", "capture_id"),
    )
    op.create_table(
        "watch_removals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("first_seen_missing_at", sa.DateTime(), nullable=False),
        sa.Column("last_checked_at", sa.DateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["post_id"], ["watch_posts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("post_id"),
    )


def downgrade() -> None:
    op.drop_table("watch_removals")
    op.drop_table("watch_post_captures")
    op.drop_index(op.f("ix_watch_alerts_source_id"), table_name="watch_alerts")
    op.drop_index(op.f("ix_watch_alerts_post_id"), table_name="watch_alerts")
    op.drop_index(op.f("ix_watch_alerts_kind"), table_name="watch_alerts")
    op.drop_index("ix_watch_alerts_created_at", table_name="watch_alerts")
    op.drop_table("watch_alerts")
    op.drop_index(op.f("ix_watch_posts_source_id"), table_name="watch_posts")
    op.drop_index("ix_watch_posts_found_at", table_name="watch_posts")
    op.drop_table("watch_posts")
    op.drop_index(op.f("ix_watch_sources_next_run_at"), table_name="watch_sources")
    op.drop_table("watch_sources")
