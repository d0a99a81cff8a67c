"""Moderators' controls (``video.moderate``): admit, mute, lock, remove, end. Each is audited in
the transaction that makes it."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from signaling.messages import RtcLock, RtcMute
from signaling.sessions import check_room
from signaling.state import SessionState, leave, lock, lock_running
from twinspace_rt.auth.policy import Action, Member, Role, can, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import audit
from twinspace_rt.storage.video_models import Participant, ParticipantState


async def _moderate(
    session: AsyncSession, member: Member, now: datetime, grace: float
) -> SessionState:
    require(member, Action.video_moderate)
    return await lock(session, lock_running(member.project_id), now, grace)


def _is_moderator(moderator: Member, participant: Participant) -> bool:
    """Locks spare those who may moderate: asked of the policy with the participant's role."""
    member = Member(
        participant.user_id,
        moderator.project_id,
        Role(participant.role),
        moderator.project_status,
    )
    return can(member, Action.video_moderate)


async def admit(
    session: AsyncSession, member: Member, participant_id: int, now: datetime, grace: float
) -> tuple[SessionState, Participant]:
    state = await _moderate(session, member, now, grace)
    target = state.find(participant_id)
    if target.state != ParticipantState.lobby:
        raise AppError(ErrorCode.conflict, f"Participant {participant_id} is not in the lobby.")
    check_room(state)
    target.state = ParticipantState.joined
    audit.record(
        session,
        member,
        "video.admit",
        target.user_id,
        session_id=state.video.id,
        participant_id=participant_id,
    )
    return state, target


async def mute(
    session: AsyncSession, member: Member, request: RtcMute, now: datetime, grace: float
) -> tuple[SessionState, list[Participant]]:
    """Turns the state off and records who did it; the targets' clients are asked to obey."""
    state = await _moderate(session, member, now, grace)
    if request.participant_id is not None:
        targets = [state.find(request.participant_id)]
    else:
        targets = [p for p in state.seated() if p.user_id != member.user_id]
    for target in targets:
        if request.mic:
            target.mic = False
        if request.camera:
            target.camera = target.screen = False
        target.muted_by = member.user_id
    audit.record(
        session,
        member,
        "video.mute",
        targets[0].user_id if request.participant_id is not None else None,
        session_id=state.video.id,
        participants=[t.id for t in targets],
        mic=request.mic,
        camera=request.camera,
    )
    return state, targets


async def lock_media(
    session: AsyncSession, member: Member, request: RtcLock, now: datetime, grace: float
) -> tuple[SessionState, list[Participant]]:
    """Locking also turns the locked media off for everyone it applies to."""
    state = await _moderate(session, member, now, grace)
    video = state.video
    if request.mic is not None:
        video.mic_locked = request.mic
    if request.camera is not None:
        video.camera_locked = request.camera
    affected = []
    for participant in state.participants:
        if _is_moderator(member, participant):
            continue
        if request.mic and participant.mic:
            participant.mic = False
            participant.muted_by = member.user_id
            affected.append(participant)
        if request.camera and (participant.camera or participant.screen):
            participant.camera = participant.screen = False
            participant.muted_by = member.user_id
            affected.append(participant)
    audit.record(
        session,
        member,
        "video.lock",
        session_id=video.id,
        mic=video.mic_locked,
        camera=video.camera_locked,
    )
    return state, list({p.id: p for p in affected}.values())


async def remove(
    session: AsyncSession, member: Member, participant_id: int, now: datetime, grace: float
) -> tuple[SessionState, Participant, str | None]:
    """The removed seat is kept as ``removed``: its signaling and any rejoin are refused."""
    state = await _moderate(session, member, now, grace)
    target = state.find(participant_id)
    if target.user_id == member.user_id:
        raise AppError(ErrorCode.conflict, "Leave the session instead of removing yourself.")
    connection_id = target.connection_id
    leave(target, ParticipantState.removed)
    state.participants.remove(target)
    audit.record(
        session,
        member,
        "video.remove",
        target.user_id,
        session_id=state.video.id,
        participant_id=participant_id,
    )
    return state, target, connection_id


async def end(
    session: AsyncSession, member: Member, now: datetime, grace: float
) -> tuple[SessionState, list[str]]:
    """Ends it for all; returns the sockets that were in it."""
    state = await _moderate(session, member, now, grace)
    video = state.video
    connections = [p.connection_id for p in state.participants if p.connection_id]
    for participant in state.participants:
        leave(participant)
    state.participants.clear()
    video.active_project_id = None
    video.ended_at = now
    video.ended_by = member.user_id
    audit.record(session, member, "video.end", session_id=video.id)
    return state, connections
