"""A session's state as every client sees it, read from the store under the session's lock.

Every change first bumps ``version`` with one ``UPDATE … RETURNING``: on PostgreSQL that takes
the row lock, on SQLite the write lock, so two nodes never decide on a stale seat count. The
pushed state carries the version, and clients keep the highest they have seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Member
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.storage.video_models import SEATED, Participant, ParticipantState, VideoSession

VISIBLE = (ParticipantState.lobby, *SEATED)


@dataclass(frozen=True)
class Actor:
    """Who asks, from which socket, and when; ``grace`` is how long a dropped seat is kept."""

    member: Member
    connection_id: str
    now: datetime
    grace: float

    async def lock_running(self, tx: AsyncSession) -> SessionState:
        """The project's running session, locked for this change."""
        where = col(VideoSession.active_project_id) == self.member.project_id
        return await lock(tx, where, self.now, self.grace)


@dataclass
class SessionState:
    video: VideoSession
    participants: list[Participant]
    # Seats whose grace ran out while this state was read (their SFU handles go too).
    expired: list[Participant] = field(default_factory=list)

    def seated(self) -> list[Participant]:
        return [p for p in self.participants if p.state in SEATED]

    def find(self, participant_id: int) -> Participant:
        for participant in self.participants:
            if participant.id == participant_id:
                return participant
        raise AppError(ErrorCode.not_found, f"Participant {participant_id} is not in the session.")

    def payload(self) -> dict[str, Any]:
        video = self.video
        hands = sorted(
            (p for p in self.participants if p.hand_order is not None),
            key=lambda p: (p.hand_order, p.id),
        )
        return {
            "session_id": video.id,
            "version": video.version,
            "status": "active" if video.active_project_id is not None else "ended",
            "topology": video.topology,
            "started_by": video.started_by,
            "lobby": video.lobby,
            "max_participants": video.max_participants,
            "publish": video.publish,
            "locks": {"mic": video.mic_locked, "camera": video.camera_locked},
            "breakouts": video.breakouts,
            "participants": [_participant(p) for p in self.participants],
            "hands": [p.id for p in hands],
        }


def _participant(p: Participant) -> dict[str, Any]:
    return {
        "participant_id": p.id,
        "user_id": p.user_id,
        "display_name": p.display_name,
        "role": p.role,
        "state": str(p.state),
        "media": {"mic": p.mic, "camera": p.camera, "screen": p.screen},
        "hand": p.hand_order is not None,
        "breakout": p.breakout,
        "muted_by": p.muted_by,
        "feeds": {"camera": p.camera_feed is not None, "screen": p.screen_feed is not None},
    }


async def lock(
    tx: AsyncSession, where: ColumnElement[bool], now: datetime, grace: float
) -> SessionState:
    """Bumps the version of the one session ``where`` selects, then reads it whole."""
    found = await tx.exec(
        update(VideoSession)
        .where(where)
        .values(version=col(VideoSession.version) + 1)
        .returning(col(VideoSession.id))
    )
    session_id = found.scalar_one_or_none()
    if session_id is None:
        raise AppError(ErrorCode.not_found, "No video session is running in this project.")
    state = await read(tx, await reread(tx, session_id))
    _expire(state, now, grace)
    return state


def lock_by_id(session_id: int) -> ColumnElement[bool]:
    return col(VideoSession.id) == session_id


async def reread(tx: AsyncSession, session_id: int) -> VideoSession:
    """The session's row as the UPDATE that just locked it left it: the transaction may hold an
    older copy of the row, which `populate_existing` replaces."""
    found = await tx.exec(
        select(VideoSession)
        .where(VideoSession.id == session_id)
        .execution_options(populate_existing=True)
    )
    return found.one()


async def read(tx: AsyncSession, video: VideoSession) -> SessionState:
    found = await tx.exec(
        select(Participant)
        .where(Participant.session_id == video.id, col(Participant.state).in_(VISIBLE))
        .order_by(col(Participant.id))
        .execution_options(populate_existing=True)
    )
    return SessionState(video, list(found))


async def running(tx: AsyncSession, project_id: int) -> VideoSession | None:
    found = await tx.exec(select(VideoSession).where(VideoSession.active_project_id == project_id))
    return found.first()


def _expire(state: SessionState, now: datetime, grace: float) -> None:
    """Seats whose grace has run out are given up, whichever node notices first."""
    limit = now - timedelta(seconds=grace)
    for participant in list(state.participants):
        gone = participant.disconnected_at
        if participant.state == ParticipantState.reconnecting and gone is not None:
            if gone <= limit:
                leave(participant)
                state.participants.remove(participant)
                state.expired.append(participant)


def leave(participant: Participant, state: ParticipantState = ParticipantState.left) -> None:
    participant.state = state
    participant.connection_id = None
    participant.hand_order = None
    participant.mic = participant.camera = participant.screen = False
    participant.camera_feed = participant.screen_feed = None
