"""search: the text index of pages, journal posts in full-text search, page read marks

Revision ID: 0011_search
Revises: 0010_materials
Create Date: 2026-12-08

As for chat and forum posts (0005): SQLite gets FTS5 external-content tables kept in sync by
triggers, PostgreSQL GIN expression indexes on ``to_tsvector('simple', ...)``. ``page_texts``
holds a page's title and plain text (its body is a Yjs document, which no engine can search).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011_search"
down_revision = "0010_materials"
branch_labels = None
depends_on = None

_TOKENIZE = " tokenize='unicode61 remove_diacritics 2')"
SQLITE_FTS = [
    "CREATE VIRTUAL TABLE page_fts USING fts5(title, body, content='page_texts',"
    " content_rowid='page_id'," + _TOKENIZE,
    "CREATE TRIGGER page_fts_insert AFTER INSERT ON page_texts BEGIN"
    " INSERT INTO page_fts(rowid, title, body) VALUES (new.page_id, new.title, new.body); END",
    "CREATE TRIGGER page_fts_delete AFTER DELETE ON page_texts BEGIN"
    " INSERT INTO page_fts(page_fts, rowid, title, body)"
    " VALUES ('delete', old.page_id, old.title, old.body); END",
    "CREATE TRIGGER page_fts_update AFTER UPDATE ON page_texts BEGIN"
    " INSERT INTO page_fts(page_fts, rowid, title, body)"
    " VALUES ('delete', old.page_id, old.title, old.body);"
    " INSERT INTO page_fts(rowid, title, body) VALUES (new.page_id, new.title, new.body); END",
    "CREATE VIRTUAL TABLE journal_fts USING fts5(body, content='journal_posts',"
    " content_rowid='id'," + _TOKENIZE,
    "CREATE TRIGGER journal_fts_insert AFTER INSERT ON journal_posts BEGIN"
    " INSERT INTO journal_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER journal_fts_delete AFTER DELETE ON journal_posts BEGIN"
    " INSERT INTO journal_fts(journal_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER journal_fts_update AFTER UPDATE OF body ON journal_posts BEGIN"
    " INSERT INTO journal_fts(journal_fts, rowid, body) VALUES ('delete', old.id, old.body);"
    " INSERT INTO journal_fts(rowid, body) VALUES (new.id, new.body); END",
    "INSERT INTO journal_fts(journal_fts) VALUES ('rebuild')",
]
POSTGRES_FTS = [
    "CREATE INDEX ix_page_texts_fts ON page_texts"
    " USING gin (to_tsvector('simple', title || ' ' || body))",
    "CREATE INDEX ix_journal_posts_fts ON journal_posts USING gin (to_tsvector('simple', body))",
]


def upgrade() -> None:
    op.create_table(
        "page_texts",
        sa.Column("page_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("edited_at", sqlmodel.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_page_texts_project_id", "page_texts", ["project_id"])
    op.create_table(
        "page_reads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("page_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "page_id"),
    )
    op.create_index("ix_page_reads_project_id", "page_reads", ["project_id"])
    statements = SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else POSTGRES_FTS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("page", "journal"):
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {name}_fts_{event}")
            op.execute(f"DROP TABLE {name}_fts")
    else:
        op.execute("DROP INDEX ix_journal_posts_fts")
    op.drop_table("page_reads")
    op.drop_table("page_texts")
