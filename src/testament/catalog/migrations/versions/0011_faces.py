"""faces: faces found on keyframes and images, their clusters, and bases citing a cluster

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 08:40:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_clusters",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "faces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("time", sa.Float(), nullable=True),
        sa.Column("box", sa.JSON(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("descriptor", sa.LargeBinary(), nullable=False),
        sa.Column("crop_id", sa.Integer(), nullable=True),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.Column("distance", sa.Float(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["analysis_id"], ["analyses.id"]),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"]),
        sa.ForeignKeyConstraint(["crop_id"], ["derivatives.id"]),
        sa.ForeignKeyConstraint(["cluster_id"], ["face_clusters.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_faces_analysis_id", "faces", ["analysis_id"])
    op.create_index("ix_faces_asset_id", "faces", ["asset_id"])
    op.create_index("ix_faces_cluster_id", "faces", ["cluster_id"])
    op.create_table(
        "face_cluster_bases",
        sa.Column("basis_id", sa.Integer(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=False),
        sa.Column("face_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["basis_id"], ["attribution_bases.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["cluster_id"], ["face_clusters.id"]),
        sa.ForeignKeyConstraint(["face_id"], ["faces.id"]),
        sa.PrimaryKeyConstraint("basis_id"),
    )
    op.create_index("ix_face_cluster_bases_cluster_id", "face_cluster_bases", ["cluster_id"])


def downgrade() -> None:
    op.drop_index("ix_face_cluster_bases_cluster_id", table_name="face_cluster_bases")
    op.drop_table("face_cluster_bases")
    op.drop_index("ix_faces_cluster_id", table_name="faces")
    op.drop_index("ix_faces_asset_id", table_name="faces")
    op.drop_index("ix_faces_analysis_id", table_name="faces")
    op.drop_table("faces")
    op.drop_table("face_clusters")
