"""post attachments: materials attached to forum posts and chat messages

Revision ID: 0015_post_attachments
Revises: 0014_doc_search
Create Date: 2026-12-07

The post's or message's key cascades (its attachments go with it); the material's is set to
null, so a removed material stays in its place and is shown as unavailable.
"""

import sqlalchemy as sa
from alembic import op

revision = "0015_post_attachments"
down_revision = "0014_doc_search"
branch_labels = None
depends_on = None

# table: (owner column, owner table)
TABLES = {
    "forum_attachments": ("post_id", "forum_posts"),
    "chat_attachments": ("message_id", "chat_messages"),
}


def upgrade() -> None:
    for table, (owner, owners) in TABLES.items():
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), primary_key=True),
            sa.Column(
                owner,
                sa.Integer(),
                sa.ForeignKey(f"{owners}.id", ondelete="CASCADE"),
                nullable=False,
            ),
            sa.Column(
                "material_id",
                sa.Integer(),
                sa.ForeignKey("materials.id", ondelete="SET NULL"),
                nullable=True,
            ),
            sa.Column("position", sa.Integer(), nullable=False),
            sa.UniqueConstraint(owner, "material_id"),
        )
        op.create_index(f"ix_{table}_{owner}", table, [owner])
        op.create_index(f"ix_{table}_material_id", table, ["material_id"])


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
