"""Video session tables: the durable truth every node reads, so participants may sit anywhere."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel, String, UTCDateTime

from twinspace_rt.storage.models import NAME_MAX, utcnow
from twinspace_rt.storage.privacy import Erase, TablePrivacy, declare


class ParticipantState(StrEnum):
    lobby = "lobby"
    joined = "joined"
    reconnecting = "reconnecting"
    left = "left"
    removed = "removed"


# The states that hold a seat in the mesh.
SEATED = (ParticipantState.joined, ParticipantState.reconnecting)


class VideoSession(SQLModel, table=True):
    """``active_project_id`` is the project's id while the session runs and NULL once it ended:
    its unique constraint allows one running session per project on SQLite and PostgreSQL alike.
    ``version`` is bumped first by every change, which also serialises changes per session."""

    __tablename__ = "video_sessions"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="projects.id", index=True)
    active_project_id: int | None = Field(default=None, unique=True)
    topology: str = Field(default="mesh", sa_type=String(16))
    started_by: int = Field(foreign_key="users.id")
    lobby: bool = False
    max_participants: int
    publish: str = Field(default="everyone", sa_type=String(16))
    mic_locked: bool = False
    camera_locked: bool = False
    # Breakout groups open (numbered from 1); 0: everyone is in the main room.
    breakouts: int = 0
    # The Janus instance (its API socket's path) holding an SFU session's rooms.
    media_server: str | None = Field(default=None, max_length=255)
    version: int = 1
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_by: int | None = Field(default=None, foreign_key="users.id")


class Participant(SQLModel, table=True):
    """One person's seat in one session. The id stays theirs across a reconnect, so peers keep
    their connections; leaving and joining again takes a new, higher id (politeness follows id
    order). ``hand_order`` is the session version at which the hand went up."""

    __tablename__ = "video_participants"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="video_sessions.id", index=True)
    user_id: int = Field(foreign_key="users.id")
    display_name: str = Field(max_length=NAME_MAX)
    role: str = Field(sa_type=String(16))
    state: ParticipantState = Field(sa_type=String(16))
    connection_id: str | None = Field(default=None, max_length=32, index=True)
    mic: bool = False
    camera: bool = False
    screen: bool = False
    hand_order: int | None = None
    # The breakout group the participant is in; None: the main room.
    breakout: int | None = None
    # SFU sessions: the Janus id of the participant's live camera and screen feeds (up at Janus,
    # in the room of its group); None: no such feed is live.
    camera_feed: int | None = Field(default=None, sa_type=BigInteger)
    screen_feed: int | None = Field(default=None, sa_type=BigInteger)
    muted_by: int | None = Field(default=None, foreign_key="users.id")
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    disconnected_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


declare(
    TablePrivacy(
        "video_sessions",
        users={"started_by": Erase.pseudonymise, "ended_by": Erase.unlink},
        plain=("topology", "publish", "media_server"),
        export="video_sessions",
    ),
    TablePrivacy(
        "video_participants",
        users={"user_id": Erase.delete_row, "muted_by": Erase.unlink},
        personal=("display_name",),
        plain=("role", "state", "connection_id"),
        scope="session_id>video_sessions",
        export="video_participants",
        export_by=("user_id",),
    ),
)
