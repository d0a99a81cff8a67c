"""pages: the project's pages, journal and public showcase; document access requirements

Revision ID: 0007_pages
Revises: 0006
Create Date: 2026-12-06

A page's body is an ordinary document; ``documents.read_requires`` and ``edit_requires`` name
the policy actions (space-separated) a member needs beyond ``doc.read`` and ``doc.edit``, which
pages set on their documents (a draft needs ``page.read_drafts``), and ``owner`` keeps such a
document out of the documents list and away from its rename and delete.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0007_pages"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        for name in ("read_requires", "edit_requires"):
            batch.add_column(sa.Column(name, sa.String(64), nullable=False, server_default=""))
        batch.add_column(sa.Column("owner", sa.String(16), nullable=True))
    op.create_table(
        "pages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("pages.id"), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("visibility", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_pages_project_parent", "pages", ["project_id", "parent_id", "position"])
    op.create_table(
        "journal_posts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("parent_id", sa.Integer(), sa.ForeignKey("journal_posts.id"), nullable=True),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.Column("edited_at", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("deleted_at", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("deleted_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("approved_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_index("ix_journal_posts_project_parent", "journal_posts", ["project_id", "parent_id"])
    op.create_table(
        "journal_likes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("post_id", sa.Integer(), sa.ForeignKey("journal_posts.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.UniqueConstraint("post_id", "user_id"),
    )
    op.create_index("ix_journal_likes_post_id", "journal_likes", ["post_id"])
    op.create_table(
        "journal_reads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("last_read_id", sa.Integer(), nullable=False),
        sa.UniqueConstraint("project_id", "user_id"),
    )
    op.create_table(
        "publishing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False, unique=True
        ),
        sa.Column("pupil_posts", sa.String(16), nullable=False),
        sa.Column("slug", sa.String(40), nullable=True, unique=True),
        sa.Column("showcase_on", sa.Boolean(), nullable=False),
        sa.Column("indexable", sa.Boolean(), nullable=False),
        sa.Column("pupil_names", sa.String(16), nullable=False),
        sa.Column("languages", sa.String(64), nullable=False),
    )
    op.create_table(
        "showcase_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.UniqueConstraint("project_id", "kind", "target_id"),
    )
    op.create_index("ix_showcase_items_project_id", "showcase_items", ["project_id"])


def downgrade() -> None:
    for table in ("showcase_items", "publishing", "journal_reads", "journal_likes"):
        op.drop_table(table)
    op.drop_table("journal_posts")
    op.drop_table("pages")
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("owner")
        batch.drop_column("edit_requires")
        batch.drop_column("read_requires")
