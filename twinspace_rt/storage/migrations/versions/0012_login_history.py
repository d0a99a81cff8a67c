"""login history; retention periods for materials and journal posts

Revision ID: 0012_login_history
Revises: 0011_search
Create Date: 2026-12-07

Issue 19. ``login_events`` holds each sign-in and failed sign-in of an account (kept
``retention_login_days``); ``privacy_settings`` gains a project's periods for materials and
journal posts (NULL: the server default).
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012_login_history"
down_revision = "0011_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_events",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("at", sqlmodel.UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("address", sqlmodel.AutoString(length=64), nullable=False),
        sa.Column("client", sqlmodel.AutoString(length=64), nullable=False),
    )
    op.create_index("ix_login_events_user_id", "login_events", ["user_id"])
    op.create_index("ix_login_events_at", "login_events", ["at"])
    with op.batch_alter_table("privacy_settings") as batch:
        batch.add_column(sa.Column("materials_days", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("journal_days", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("privacy_settings") as batch:
        batch.drop_column("journal_days")
        batch.drop_column("materials_days")
    op.drop_index("ix_login_events_at", "login_events")
    op.drop_index("ix_login_events_user_id", "login_events")
    op.drop_table("login_events")
