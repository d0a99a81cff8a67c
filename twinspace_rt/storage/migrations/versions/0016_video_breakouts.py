"""video breakouts: breakout groups of a video session

Revision ID: 0016_video_breakouts
Revises: 0015_post_attachments
Create Date: 2026-12-07

Issue 16: a teacher splits a class-size session into breakout groups, each its own room on the
SFU. The session counts its open groups (``breakouts``, 0: none) and each participant names its
group (``breakout``, null: the main room).
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


def downgrade() -> None:
    with op.batch_alter_table("video_participants") as batch:
        batch.drop_column("breakout")
    with op.batch_alter_table("video_sessions") as batch:
        batch.drop_column("breakouts")
