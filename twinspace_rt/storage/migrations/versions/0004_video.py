"""video: sessions and their participants

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "video_sessions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("project_id", sa.Integer(), sa.ForeignKey("projects.id"), nullable=False),
        sa.Column("active_project_id", sa.Integer(), nullable=True, unique=True),
        sa.Column("topology", sa.String(16), nullable=False),
        sa.Column("started_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("lobby", sa.Boolean(), nullable=False),
        sa.Column("max_participants", sa.Integer(), nullable=False),
        sa.Column("publish", sa.String(16), nullable=False),
        sa.Column("mic_locked", sa.Boolean(), nullable=False),
        sa.Column("camera_locked", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("started_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.UTCDateTime(), nullable=True),
        sa.Column("ended_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
    )
    op.create_index("ix_video_sessions_project_id", "video_sessions", ["project_id"])
    op.create_table(
        "video_participants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("session_id", sa.Integer(), sa.ForeignKey("video_sessions.id"), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("connection_id", sa.String(32), nullable=True),
        sa.Column("mic", sa.Boolean(), nullable=False),
        sa.Column("camera", sa.Boolean(), nullable=False),
        sa.Column("screen", sa.Boolean(), nullable=False),
        sa.Column("hand_order", sa.Integer(), nullable=True),
        sa.Column("muted_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True),
        sa.Column("joined_at", sqlmodel.UTCDateTime(), nullable=False),
        sa.Column("disconnected_at", sqlmodel.UTCDateTime(), nullable=True),
    )
    op.create_index("ix_video_participants_session_id", "video_participants", ["session_id"])
    op.create_index("ix_video_participants_connection_id", "video_participants", ["connection_id"])


def downgrade() -> None:
    op.drop_table("video_participants")
    op.drop_table("video_sessions")
