"""What participants do to a session: start it, join, rejoin, media, hands, leave, drop.

Each function runs inside the caller's transaction and returns the state to announce.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from signaling.messages import RtcMedia, RtcStart
from signaling.state import Actor, SessionState, leave, lock, lock_by_id
from twinspace_rt.auth.policy import Action, Member, can, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import audit
from twinspace_rt.settings import Settings
from twinspace_rt.storage.video_models import SEATED, Participant, ParticipantState, VideoSession


@dataclass
class Joined:
    state: SessionState
    me: Participant
    rejoined: bool


def topology(request: RtcStart, settings: Settings, sfu_configured: bool) -> tuple[str, int]:
    """Mesh unless the session is opened for more than a mesh holds and a media server is
    configured; then the SFU, up to its own maximum."""
    wanted = request.max_participants or settings.rtc_mesh_max
    if wanted > settings.rtc_mesh_max and sfu_configured:
        return "sfu", min(wanted, settings.rtc_sfu_max)
    return "mesh", min(wanted, settings.rtc_mesh_max)


async def start(
    tx: AsyncSession, member: Member, request: RtcStart, kind: str, max_participants: int
) -> SessionState:
    require(member, Action.video_start)
    video = VideoSession(
        project_id=member.project_id,
        active_project_id=member.project_id,
        topology=kind,
        started_by=member.user_id,
        lobby=request.lobby,
        max_participants=max_participants,
        publish=request.publish,
    )
    tx.add(video)
    try:
        await tx.flush()
    except IntegrityError as exc:
        raise AppError(
            ErrorCode.conflict, "A video session is already running in this project."
        ) from exc
    audit.record(
        tx,
        member,
        "video.start",
        session_id=video.id,
        lobby=video.lobby,
        max_participants=video.max_participants,
        publish=video.publish,
        topology=video.topology,
    )
    return SessionState(video, [])


async def join(tx: AsyncSession, actor: Actor, display_name: str) -> Joined:
    """A seat for the caller; within the grace period the same seat, on the new socket."""
    member = actor.member
    require(member, Action.video_join)
    state = await actor.lock_running(tx)
    if await was_removed(tx, state, member.user_id):
        raise AppError(ErrorCode.participant_removed)
    for mine in state.participants:
        if mine.user_id == member.user_id:
            # A rejoin, or the same person on another device: the seat follows the newest socket.
            rejoined = mine.state in SEATED
            if rejoined:
                mine.state = ParticipantState.joined
            mine.connection_id = actor.connection_id
            mine.disconnected_at = None
            return Joined(state, mine, rejoined)
    waits = state.video.lobby and not can(member, Action.video_moderate)
    if not waits:
        check_room(state)
    assert state.video.id is not None
    me = Participant(
        session_id=state.video.id,
        user_id=member.user_id,
        display_name=display_name,
        role=member.role.value,
        state=ParticipantState.lobby if waits else ParticipantState.joined,
        connection_id=actor.connection_id,
        joined_at=actor.now,
    )
    tx.add(me)
    await tx.flush()
    state.participants.append(me)
    return Joined(state, me, False)


def check_room(state: SessionState) -> None:
    if len(state.seated()) >= state.video.max_participants:
        raise AppError(
            ErrorCode.session_full,
            f"The session holds at most {state.video.max_participants} participants.",
        )


async def was_removed(tx: AsyncSession, state: SessionState, user_id: int) -> bool:
    """A moderator removed this member from the session: their client offers no Join."""
    found = await tx.exec(
        select(Participant.id).where(
            Participant.session_id == state.video.id,
            Participant.user_id == user_id,
            Participant.state == ParticipantState.removed,
        )
    )
    return found.first() is not None


def me(state: SessionState, connection_id: str, *, seated: bool = True) -> Participant:
    """The caller's own seat, found by the socket that holds it."""
    for participant in state.participants:
        if participant.connection_id == connection_id:
            if seated and participant.state != ParticipantState.joined:
                break
            return participant
    raise AppError(ErrorCode.not_found, "This socket is not in the video session.")


async def _my_seat(tx: AsyncSession, actor: Actor) -> tuple[SessionState, Participant]:
    require(actor.member, Action.video_join)
    state = await actor.lock_running(tx)
    return state, me(state, actor.connection_id)


def check_turning_on(video: VideoSession, member: Member, mic: bool, camera: bool) -> None:
    """Locks and the publish rule, for a media switch (mesh) and a publish offer (SFU) alike."""
    if can(member, Action.video_moderate):
        return
    if mic and video.mic_locked:
        raise AppError(ErrorCode.forbidden, "A moderator has locked the microphones.")
    if camera and video.camera_locked:
        raise AppError(ErrorCode.forbidden, "A moderator has locked the cameras.")
    if camera and video.publish == "moderators":
        raise AppError(ErrorCode.forbidden, "Only moderators may publish video in this session.")


async def media(tx: AsyncSession, actor: Actor, request: RtcMedia) -> SessionState:
    """Turning on is checked against locks and the publish rule; turning off always works."""
    state, mine = await _my_seat(tx, actor)
    if request.screen:
        require(actor.member, Action.video_share_screen)
    check_turning_on(
        state.video, actor.member, bool(request.mic), bool(request.camera or request.screen)
    )
    if request.mic is not None:
        mine.mic = request.mic
        if request.mic:
            mine.muted_by = None
    if request.camera is not None:
        mine.camera = request.camera
    if request.screen is not None:
        mine.screen = request.screen
    return state


async def hand(tx: AsyncSession, actor: Actor, raised: bool) -> SessionState:
    """A raised hand keeps its place in the queue: the session version it went up at."""
    state, mine = await _my_seat(tx, actor)
    if not raised:
        mine.hand_order = None
    elif mine.hand_order is None:
        mine.hand_order = state.video.version
    return state


async def leave_session(tx: AsyncSession, actor: Actor) -> tuple[SessionState, Participant]:
    """Always allowed, from the session or its lobby."""
    state = await actor.lock_running(tx)
    mine = me(state, actor.connection_id, seated=False)
    leave(mine)
    state.participants.remove(mine)
    return state, mine


async def dropped(
    tx: AsyncSession, connection_id: str, now: datetime, grace: float
) -> SessionState | None:
    """A socket closed: its seat waits ``grace`` seconds as ``reconnecting``; a lobby wait ends."""
    found = await tx.exec(
        select(Participant.session_id).where(
            Participant.connection_id == connection_id,
            col(Participant.state).in_((ParticipantState.joined, ParticipantState.lobby)),
        )
    )
    session_id = found.first()
    if session_id is None:
        return None
    state = await lock(tx, lock_by_id(session_id), now, grace)
    for participant in list(state.participants):
        if participant.connection_id != connection_id:
            continue
        if participant.state == ParticipantState.lobby:
            leave(participant)
            state.participants.remove(participant)
        else:
            participant.state = ParticipantState.reconnecting
            participant.connection_id = None
            participant.disconnected_at = now
    return state


async def expire(tx: AsyncSession, session_id: int, now: datetime, grace: float) -> SessionState:
    """Run after a grace period: gives up the seats whose time ran out (``lock`` does it)."""
    return await lock(tx, lock_by_id(session_id), now, grace)
