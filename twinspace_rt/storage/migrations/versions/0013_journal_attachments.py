"""journal attachments: materials attached to journal posts

Revision ID: 0013_journal_attachments
Revises: 0012_login_history
Create Date: 2026-12-09

Both foreign keys cascade: a material removed by a teacher or erased with its uploader, and a
post deleted with its project, take their attachments with them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0013_journal_attachments"
down_revision = "0012_login_history"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_attachments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "post_id",
            sa.Integer(),
            sa.ForeignKey("journal_posts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "material_id",
            sa.Integer(),
            sa.ForeignKey("materials.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("post_id", "material_id"),
    )
    op.create_index("ix_journal_attachments_post_id", "journal_attachments", ["post_id"])
    op.create_index("ix_journal_attachments_material_id", "journal_attachments", ["material_id"])


def downgrade() -> None:
    op.drop_table("journal_attachments")
