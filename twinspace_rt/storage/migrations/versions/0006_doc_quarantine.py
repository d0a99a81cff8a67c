"""doc_quarantine: stored document updates that do not apply, kept aside with the reason

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Before issue 12, an update was logged once it decoded, before anything proved it applied; a
row that panics on apply made its document unloadable. Loading (and `twinspace-rt docs
repair`) now moves such rows here in one transaction with their removal from the log.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "doc_quarantine",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("update_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("quarantined_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
    )
    op.create_index("ix_doc_quarantine_document_id", "doc_quarantine", ["document_id"])


def downgrade() -> None:
    op.drop_table("doc_quarantine")
