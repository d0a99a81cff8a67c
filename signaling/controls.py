"""Moderators' controls (``video.moderate``): admit, mute, lock, remove, end. Each is audited in
the transaction that makes it."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from signaling.messages import RtcLock, RtcMute
from signaling.sessions import check_room
from signaling.state import Actor, SessionState, leave
from twinspace_rt.auth.policy import Action, Member, Role, can, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import audit
from twinspace_rt.storage.video_models import Participant, ParticipantState


async def _moderate(tx: AsyncSession, actor: Actor) -> SessionState:
    require(actor.member, Action.video_moderate)
    return await actor.lock_running(tx)


def _audit(
    tx: AsyncSession,
    actor: Actor,
    state: SessionState,
    action: str,
    target: Participant | None = None,
    **details: Any,
) -> None:
    target_user = None if target is None else target.user_id
    if target is not None:
        details["participant_id"] = target.id
    audit.record(tx, actor.member, action, target_user, session_id=state.video.id, **details)


def is_moderator(moderator: Member, participant: Participant) -> bool:
    """Locks spare those who may moderate: asked of the policy with the participant's role."""
    member = Member(
        participant.user_id,
        moderator.project_id,
        Role(participant.role),
        moderator.project_status,
    )
    return can(member, Action.video_moderate)


async def admit(
    tx: AsyncSession, actor: Actor, participant_id: int
) -> tuple[SessionState, Participant]:
    state = await _moderate(tx, actor)
    target = state.find(participant_id)
    if target.state != ParticipantState.lobby:
        raise AppError(ErrorCode.conflict, f"Participant {participant_id} is not in the lobby.")
    check_room(state)
    target.state = ParticipantState.joined
    _audit(tx, actor, state, "video.admit", target)
    return state, target


def _is_on(participant: Participant, mic: bool, camera: bool) -> bool:
    return (mic and participant.mic) or (camera and (participant.camera or participant.screen))


def _turn_off(participant: Participant, by: int, mic: bool, camera: bool) -> None:
    if mic:
        participant.mic = False
    if camera:
        participant.camera = participant.screen = False
    participant.muted_by = by


async def mute(
    tx: AsyncSession, actor: Actor, request: RtcMute
) -> tuple[SessionState, list[Participant]]:
    """Turns the state off and records who did it; the targets' clients are asked to obey."""
    state = await _moderate(tx, actor)
    if request.participant_id is not None:
        targets = [state.find(request.participant_id)]
    else:
        targets = [p for p in state.seated() if p.user_id != actor.member.user_id]
    for target in targets:
        _turn_off(target, actor.member.user_id, request.mic, request.camera)
    one = targets[0] if request.participant_id is not None else None
    _audit(
        tx,
        actor,
        state,
        "video.mute",
        one,
        participants=[t.id for t in targets],
        mic=request.mic,
        camera=request.camera,
    )
    return state, targets


async def lock_media(
    tx: AsyncSession, actor: Actor, request: RtcLock
) -> tuple[SessionState, list[Participant]]:
    """Locking also turns the locked media off for everyone it applies to."""
    state = await _moderate(tx, actor)
    video = state.video
    if request.mic is not None:
        video.mic_locked = request.mic
    if request.camera is not None:
        video.camera_locked = request.camera
    mic, camera = bool(request.mic), bool(request.camera)
    affected = [
        p
        for p in state.participants
        if not is_moderator(actor.member, p) and _is_on(p, mic, camera)
    ]
    for participant in affected:
        _turn_off(participant, actor.member.user_id, mic, camera)
    _audit(tx, actor, state, "video.lock", mic=video.mic_locked, camera=video.camera_locked)
    return state, affected


async def remove(
    tx: AsyncSession, actor: Actor, participant_id: int
) -> tuple[SessionState, Participant, str | None]:
    """The removed seat is kept as ``removed``: its signaling and any rejoin are refused."""
    state = await _moderate(tx, actor)
    target = state.find(participant_id)
    if target.user_id == actor.member.user_id:
        raise AppError(ErrorCode.conflict, "Leave the session instead of removing yourself.")
    connection_id = target.connection_id
    leave(target, ParticipantState.removed)
    state.participants.remove(target)
    _audit(tx, actor, state, "video.remove", target)
    return state, target, connection_id


async def end(tx: AsyncSession, actor: Actor) -> SessionState:
    """Ends it for all."""
    state = await _moderate(tx, actor)
    video = state.video
    for participant in state.participants:
        leave(participant)
    state.participants.clear()
    video.active_project_id = None
    video.ended_at = actor.now
    video.ended_by = actor.member.user_id
    _audit(tx, actor, state, "video.end")
    return state
