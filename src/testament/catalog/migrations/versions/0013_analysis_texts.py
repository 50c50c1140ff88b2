"""analysis texts: on-screen text, transcripts and post texts indexed by language

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 08:50:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

FTS_SQLITE = [
    "CREATE VIRTUAL TABLE analysis_texts_fts USING fts5(body, content='analysis_texts', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER analysis_texts_ai AFTER INSERT ON analysis_texts BEGIN "
    "INSERT INTO analysis_texts_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER analysis_texts_ad AFTER DELETE ON analysis_texts BEGIN "
    "INSERT INTO analysis_texts_fts(analysis_texts_fts, rowid, body) "
    "VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER analysis_texts_au AFTER UPDATE ON analysis_texts BEGIN "
    "INSERT INTO analysis_texts_fts(analysis_texts_fts, rowid, body) "
    "VALUES ('delete', old.id, old.body); "
    "INSERT INTO analysis_texts_fts(rowid, body) VALUES (new.id, new.body); END",
]
# One partial GIN index per text-search configuration, for the rows in that language
# ('armenian' exists from PostgreSQL 16 on; older servers index Armenian as 'simple').
CONFIGS = ("simple", "english", "russian", "turkish", "armenian")
# Texts analysed before this revision, as plain words until the asset is analysed again.
BACKFILL = (
    "INSERT INTO analysis_texts (asset_id, analysis_id, source, language, config, body) "
    "SELECT asset_id, id, analyser, NULL, 'simple', search_text FROM analyses "
    "WHERE status = 'ok' AND search_text IS NOT NULL AND search_text <> ''"
)


def _full_text() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in FTS_SQLITE:
            op.execute(statement)
    elif bind.dialect.name == "postgresql":
        present = set(bind.execute(sa.text("SELECT cfgname FROM pg_ts_config")).scalars())
        for name in CONFIGS:
            if name in present:
                op.execute(
                    f"CREATE INDEX ix_analysis_texts_{name} ON analysis_texts "
                    f"USING gin (to_tsvector('{name}', body)) WHERE config = '{name}'"
                )


def upgrade() -> None:
    op.create_table(
        "analysis_texts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("asset_id", sa.Integer(), nullable=False),
        sa.Column("analysis_id", sa.Integer(), nullable=True),
        sa.Column("capture_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("config", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["analysis_id"], ["analyses.id"]),
        sa.ForeignKeyConstraint(["asset_id"], ["assets.id"]),
        sa.ForeignKeyConstraint(["capture_id"], ["captures.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_analysis_texts_asset_id", "analysis_texts", ["asset_id"])
    op.create_index("ix_analysis_texts_language", "analysis_texts", ["language"])
    _full_text()
    op.execute(BACKFILL)


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE analysis_texts_fts")
    op.drop_table("analysis_texts")
