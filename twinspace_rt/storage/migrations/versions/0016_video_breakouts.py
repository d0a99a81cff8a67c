"""video breakouts: breakout groups of a video session, and its Janus instance

Revision ID: 0016_video_breakouts
Revises: 0015_post_attachments
Create Date: 2026-12-07

Issue 16: a teacher splits a class-size session into breakout groups, each its own room on the
SFU. The session counts its open groups (``breakouts``, 0: none) and each participant names its
group (``breakout``, null: the main room). With several Janus instances, a session's rooms live
on one of them (``media_server``, the path of its API socket), chosen by load and changed when
that instance fails.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016_video_breakouts"
down_revision = "0015_post_attachments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "video_sessions",
        sa.Column("breakouts", sa.Integer(), nullable=False, server_default="0"),
    )
    op.add_column("video_participants", sa.Column("breakout", sa.Integer(), nullable=True))
    op.add_column("video_sessions", sa.Column("media_server", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("video_participants") as batch:
        batch.drop_column("breakout")
    with op.batch_alter_table("video_sessions") as batch:
        batch.drop_column("media_server")
        batch.drop_column("breakouts")
