"""video live feeds: each participant's live camera and screen feed on the SFU

Revision ID: 0017_video_live_feeds
Revises: 0016_video_breakouts
Create Date: 2026-12-07

Issue 16: the session state says which participants have a live feed at Janus, per source, so
that a participant who joins late (or is moved into a group) subscribes from the state alone.
The column holds the feed's Janus id (null: no live feed): a participant back from a dropped
socket publishes under another id, and the server switches subscribers to it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0017_video_live_feeds"
down_revision = "0016_video_breakouts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("video_participants", sa.Column("camera_feed", sa.BigInteger(), nullable=True))
    op.add_column("video_participants", sa.Column("screen_feed", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("video_participants") as batch:
        batch.drop_column("screen_feed")
        batch.drop_column("camera_feed")
