"""chat: channels, messages, reactions, read markers, mutes, reports

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DEFAULT_CHANNELS = [
    ("general", "General", "all"),
    ("teachers", "Teachers' room", "staff"),
    ("pupils", "Pupils", "pupils"),
]


def upgrade() -> None:
    channels = op.create_table(
        "chat_channels",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("title", sa.String(120), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("project_id", "name"),
    )
    op.create_index("ix_chat_channels_project_id", "chat_channels", ["project_id"])
    op.create_table(
        "chat_messages",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("chat_channels.id"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("client_key", sa.String(64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("reply_to", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.Column("edited_at", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("deleted_at", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("deleted_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.UniqueConstraint("channel_id", "seq"),
        sa.UniqueConstraint("channel_id", "version"),
        sa.UniqueConstraint("channel_id", "author_id", "client_key"),
    )
    op.create_table(
        "chat_reactions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("message_id", sa.Integer(), sa.ForeignKey("chat_messages.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("emoji", sa.String(16), nullable=False),
        sa.UniqueConstraint("message_id", "user_id", "emoji"),
    )
    op.create_index("ix_chat_reactions_message_id", "chat_reactions", ["message_id"])
    op.create_table(
        "chat_read_markers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("chat_channels.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("last_read_seq", sa.Integer(), nullable=False),
        sa.UniqueConstraint("channel_id", "user_id"),
    )
    op.create_table(
        "chat_mutes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("until", sqlmodel.UTCDateTime(), nullable=False),
        sa.Column("muted_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.UniqueConstraint("project_id", "user_id"),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("reporter_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_at", sqlmodel.UTCDateTime(), nullable=False),
    )
    op.create_index("ix_reports_project_id", "reports", ["project_id"])
    # Projects founded before chat existed get the default channels too.
    projects = sa.table(
        "projects", sa.column("id", sa.Integer()), sa.column("founder_id", sa.Integer())
    )
    now = datetime.now(UTC)
    rows = [
        {
            "project_id": pid,
            "name": name,
            "title": title,
            "rule": rule,
            "last_seq": 0,
            "created_by": founder,
            "created_at": now,
        }
        for pid, founder in op.get_bind().execute(sa.select(projects.c.id, projects.c.founder_id))
        for name, title, rule in DEFAULT_CHANNELS
    ]
    if rows:
        op.bulk_insert(channels, rows)


def downgrade() -> None:
    for table in (
        "reports",
        "chat_mutes",
        "chat_read_markers",
        "chat_reactions",
        "chat_messages",
        "chat_channels",
    ):
        op.drop_table(table)
