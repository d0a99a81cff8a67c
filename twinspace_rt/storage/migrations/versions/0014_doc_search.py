"""doc search: documents and materials in search, document and material read marks

Revision ID: 0014_doc_search
Revises: 0013_journal_attachments
Create Date: 2026-12-07

Issue 17: search and "What's new" left out documents and materials. The text index of pages
(``page_texts``) becomes the text index of documents (``doc_texts``, keyed by document: a page
is searched through its document, and so is one of the Documents list), and the read marks of
pages (``page_reads``) become read marks of documents (``doc_reads``; the marks so far are kept,
moved to each page's document). The index is a cache that search refills, so it starts empty.
Materials are found by title and file name: FTS5 kept by triggers on SQLite, a GIN expression
index on PostgreSQL, as for chat and posts (0005); ``material_reads`` says when a member last
marked the project's materials seen.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014_doc_search"
down_revision = "0013_journal_attachments"
branch_labels = None
depends_on = None

_TOKENIZE = " tokenize='unicode61 remove_diacritics 2')"


def _fts(table: str, source: str, key: str, columns: tuple[str, ...], on: str) -> list[str]:
    """An external-content FTS5 table and the triggers that keep it in step with ``source``."""
    names = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    remove = f"INSERT INTO {table}({table}, rowid, {names}) VALUES ('delete', old.{key}, {old});"
    add = f"INSERT INTO {table}(rowid, {names}) VALUES (new.{key}, {new});"
    return [
        f"CREATE VIRTUAL TABLE {table} USING fts5({names}, content='{source}',"
        f" content_rowid='{key}'," + _TOKENIZE,
        f"CREATE TRIGGER {table}_insert AFTER INSERT ON {source} BEGIN {add} END",
        f"CREATE TRIGGER {table}_delete AFTER DELETE ON {source} BEGIN {remove} END",
        f"CREATE TRIGGER {table}_update AFTER UPDATE{on} ON {source} BEGIN {remove} {add} END",
        f"INSERT INTO {table}({table}) VALUES ('rebuild')",
    ]


SQLITE_FTS = [
    *_fts("doc_fts", "doc_texts", "document_id", ("title", "body"), ""),
    *_fts("material_fts", "materials", "id", ("title", "filename"), " OF title, filename"),
]
POSTGRES_FTS = [
    "CREATE INDEX ix_doc_texts_fts ON doc_texts"
    " USING gin (to_tsvector('simple', title || ' ' || body))",
    # PostgreSQL's parser takes "photo.jpg" as one token: split file names as SQLite does.
    "CREATE INDEX ix_materials_fts ON materials"
    " USING gin (to_tsvector('simple', title || ' ' || translate(filename, '._-', '   ')))",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "doc_texts",
        sa.Column("document_id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("edited_at", sqlmodel.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_doc_texts_project_id", "doc_texts", ["project_id"])
    op.create_table(
        "doc_reads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("read_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "document_id"),
    )
    op.create_index("ix_doc_reads_project_id", "doc_reads", ["project_id"])
    op.create_table(
        "material_reads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("read_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("user_id", "project_id"),
    )
    op.create_index("ix_material_reads_project_id", "material_reads", ["project_id"])
    op.execute(
        "INSERT INTO doc_reads (project_id, user_id, document_id, read_at)"
        " SELECT r.project_id, r.user_id, p.document_id, r.read_at"
        " FROM page_reads r JOIN pages p ON p.id = r.page_id"
    )
    if sqlite:
        for event in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER page_fts_{event}")
        op.execute("DROP TABLE page_fts")
    op.drop_table("page_reads")
    op.drop_table("page_texts")
    for statement in SQLITE_FTS if sqlite else POSTGRES_FTS:
        op.execute(statement)


def downgrade() -> None:
    """Back to page marks and an empty page index (search refills it)."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        for name in ("doc", "material"):
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER {name}_fts_{event}")
            op.execute(f"DROP TABLE {name}_fts")
    else:
        op.execute("DROP INDEX ix_materials_fts")
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
    op.execute(
        "INSERT INTO page_reads (project_id, user_id, page_id, read_at)"
        " SELECT r.project_id, r.user_id, p.id, r.read_at"
        " FROM doc_reads r JOIN pages p ON p.document_id = r.document_id"
    )
    op.drop_table("material_reads")
    op.drop_table("doc_reads")
    op.drop_table("doc_texts")
    if sqlite:
        for statement in _fts("page_fts", "page_texts", "page_id", ("title", "body"), ""):
            op.execute(statement)
    else:
        op.execute(
            "CREATE INDEX ix_page_texts_fts ON page_texts"
            " USING gin (to_tsvector('simple', title || ' ' || body))"
        )
