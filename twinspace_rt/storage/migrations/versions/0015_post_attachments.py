"""post attachments: materials attached to forum posts and chat messages

Revision ID: 0015_post_attachments
Revises: 0014_doc_search
Create Date: 2026-12-07

The post's or message's key cascades (its attachments go with it); the material's is set to
null, so a removed material stays in its place and is shown as unavailable. The journal's
attachments (0013) change to the same rule: SQLite cannot alter a foreign key, so there the
table is rebuilt with its rows.
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


def _links(table: str, owner: str, owners: str, material_ondelete: str) -> None:
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
            sa.ForeignKey("materials.id", ondelete=material_ondelete),
            nullable=material_ondelete == "SET NULL",
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint(owner, "material_id"),
    )


def _indexes(table: str, owner: str) -> None:
    op.create_index(f"ix_{table}_{owner}", table, [owner])
    op.create_index(f"ix_{table}_material_id", table, ["material_id"])


def _journal(material_ondelete: str) -> None:
    """The journal's table with its material's key set to null (upgrade) or cascading."""
    fk = "journal_attachments_material_id_fkey"
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(fk, "journal_attachments", type_="foreignkey")
        if material_ondelete == "CASCADE":
            op.execute("DELETE FROM journal_attachments WHERE material_id IS NULL")
        op.alter_column(
            "journal_attachments", "material_id", nullable=material_ondelete == "SET NULL"
        )
        op.create_foreign_key(
            fk,
            "journal_attachments",
            "materials",
            ["material_id"],
            ["id"],
            ondelete=material_ondelete,
        )
        return
    _links("journal_attachments_new", "post_id", "journal_posts", material_ondelete)
    kept = "" if material_ondelete == "SET NULL" else " WHERE material_id IS NOT NULL"
    op.execute(
        "INSERT INTO journal_attachments_new (id, post_id, material_id, position)"
        " SELECT id, post_id, material_id, position FROM journal_attachments" + kept
    )
    op.drop_table("journal_attachments")
    op.rename_table("journal_attachments_new", "journal_attachments")
    _indexes("journal_attachments", "post_id")


def upgrade() -> None:
    for table, (owner, owners) in TABLES.items():
        _links(table, owner, owners, "SET NULL")
        _indexes(table, owner)
    _journal("SET NULL")


def downgrade() -> None:
    _journal("CASCADE")
    for table in TABLES:
        op.drop_table(table)
