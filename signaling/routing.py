"""Who may signal whom: two joined participants of the project's running session.

The sender is found by its socket and the target by its participant id, both in the store, so
a socket that is not in the session (or was removed from it) cannot reach anyone, and nobody
can reach a socket that is not in the session.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from signaling.state import running
from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.storage.video_models import Participant, ParticipantState


@dataclass(frozen=True)
class Route:
    sender_id: int
    target_connection_id: str


async def route(tx: AsyncSession, member: Member, connection_id: str, to: int) -> Route:
    require(member, Action.video_join)
    video = await running(tx, member.project_id)
    if video is None:
        raise AppError(ErrorCode.not_found, "No video session is running in this project.")
    if video.topology == "sfu":
        raise AppError(ErrorCode.conflict, "This session runs on the SFU: use `rtc.publish`.")
    found = await tx.exec(
        select(Participant).where(
            Participant.session_id == video.id, Participant.user_id == member.user_id
        )
    )
    mine = list(found)
    sender = next(
        (
            p
            for p in mine
            if p.state == ParticipantState.joined and p.connection_id == connection_id
        ),
        None,
    )
    if sender is None or sender.id is None:
        if any(p.state == ParticipantState.removed for p in mine):
            raise AppError(ErrorCode.participant_removed)
        raise AppError(ErrorCode.forbidden, "Join the video session before signaling.")
    target = await tx.get(Participant, to)
    if (
        target is None
        or target.session_id != video.id
        or target.state != ParticipantState.joined
        or target.connection_id is None
        or target.id == sender.id
    ):
        raise AppError(ErrorCode.not_found, f"Participant {to} is not in this session.")
    return Route(sender.id, target.connection_id)
