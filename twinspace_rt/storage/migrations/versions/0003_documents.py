"""documents: the catalogue, the update log with its snapshot, versions

Revision ID: 0003_documents
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003_documents"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.Column("last_edited_at", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("last_edited_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("deleted_at", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("snapshot", sa.LargeBinary(), nullable=False),
        sa.Column("snapshot_version", sa.Integer(), nullable=False),
        sa.UniqueConstraint("project_id", "name"),
    )
    op.create_index("ix_documents_project_id", "documents", ["project_id"])
    op.create_table(
        "doc_updates",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_doc_updates_document_id", "doc_updates", ["document_id"])
    op.create_table(
        "doc_versions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("auto", sa.Boolean(), nullable=False),
        sa.Column("state", sa.LargeBinary(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_doc_versions_document_id", "doc_versions", ["document_id"])


def downgrade() -> None:
    for table in ("doc_versions", "doc_updates", "documents"):
        op.drop_table(table)
