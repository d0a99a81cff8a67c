"""forums: forums, threads, posts, reactions, read markers, event log; full-text search

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24

Full-text search: SQLite gets FTS5 external-content tables over ``chat_messages.text`` and
``forum_posts.body``, kept in sync by triggers (so every writer, including the chat group-commit
writer, updates the index in its own transaction). PostgreSQL gets GIN expression indexes on
``to_tsvector('simple', ...)``: the ``simple`` configuration lower-cases and splits words without
stemming, which treats Italian, Turkish, Danish and every other language of a room alike.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE chat_fts USING fts5(text, content='chat_messages', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER chat_fts_insert AFTER INSERT ON chat_messages BEGIN"
    " INSERT INTO chat_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER chat_fts_delete AFTER DELETE ON chat_messages BEGIN"
    " INSERT INTO chat_fts(chat_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER chat_fts_update AFTER UPDATE OF text ON chat_messages BEGIN"
    " INSERT INTO chat_fts(chat_fts, rowid, text) VALUES ('delete', old.id, old.text);"
    " INSERT INTO chat_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO chat_fts(chat_fts) VALUES ('rebuild')",
    "CREATE VIRTUAL TABLE forum_fts USING fts5(body, content='forum_posts', content_rowid='id',"
    " tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER forum_fts_insert AFTER INSERT ON forum_posts BEGIN"
    " INSERT INTO forum_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER forum_fts_delete AFTER DELETE ON forum_posts BEGIN"
    " INSERT INTO forum_fts(forum_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER forum_fts_update AFTER UPDATE OF body ON forum_posts BEGIN"
    " INSERT INTO forum_fts(forum_fts, rowid, body) VALUES ('delete', old.id, old.body);"
    " INSERT INTO forum_fts(rowid, body) VALUES (new.id, new.body); END",
]
POSTGRES_FTS = [
    "CREATE INDEX ix_chat_messages_fts ON chat_messages USING gin (to_tsvector('simple', text))",
    "CREATE INDEX ix_forum_posts_fts ON forum_posts USING gin (to_tsvector('simple', body))",
]


def upgrade() -> None:
    op.create_table(
        "forum_streams",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("stream", sa.String(16), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.UniqueConstraint("project_id", "stream"),
    )
    op.create_table(
        "forum_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("stream", sa.String(16), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=True),
        sa.Column("frame", sa.Text(), nullable=False),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("project_id", "stream", "seq"),
    )
    op.create_index("ix_forum_events_post_id", "forum_events", ["post_id"])
    op.create_table(
        "forums",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.String(2000), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_forums_project_id", "forums", ["project_id"])
    op.create_table(
        "forum_threads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("forum_id", sa.Integer(), sa.ForeignKey("forums.id"), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("locked", sa.Boolean(), nullable=False),
        sa.Column("post_count", sa.Integer(), nullable=False),
        sa.Column("last_post_seq", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_forum_threads_project_id", "forum_threads", ["project_id"])
    op.create_index(
        "ix_forum_threads_forum_activity", "forum_threads", ["forum_id", "last_post_seq"]
    )
    op.create_table(
        "forum_posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("board", sa.String(16), nullable=False),
        sa.Column("thread_id", sa.Integer(), sa.ForeignKey("forum_threads.id"), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("reply_to", sa.Integer(), sa.ForeignKey("forum_posts.id"), nullable=True),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.Column("edited_at", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("deleted_at", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("deleted_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_index("ix_forum_posts_thread_seq", "forum_posts", ["thread_id", "seq"])
    op.create_index(
        "ix_forum_posts_project_board_seq", "forum_posts", ["project_id", "board", "seq"]
    )
    op.create_table(
        "forum_reactions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("forum_posts.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("emoji", sa.String(16), nullable=False),
        sa.UniqueConstraint("post_id", "user_id", "emoji"),
    )
    op.create_index("ix_forum_reactions_post_id", "forum_reactions", ["post_id"])
    op.create_table(
        "forum_thread_reads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("thread_id", sa.Integer(), sa.ForeignKey("forum_threads.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("last_read_seq", sa.Integer(), nullable=False),
        sa.UniqueConstraint("thread_id", "user_id"),
    )
    op.create_table(
        "bulletin_reads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("last_read_seq", sa.Integer(), nullable=False),
        sa.UniqueConstraint("project_id", "user_id"),
    )
    statements = SQLITE_FTS if op.get_bind().dialect.name == "sqlite" else POSTGRES_FTS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("chat", "forum"):
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {name}_fts_{event}")
            op.execute(f"DROP TABLE {name}_fts")
    else:
        op.execute("DROP INDEX ix_chat_messages_fts")
    for table in (
        "bulletin_reads",
        "forum_thread_reads",
        "forum_reactions",
        "forum_posts",
        "forum_threads",
        "forums",
        "forum_events",
        "forum_streams",
    ):
        op.drop_table(table)
