"""Breakout groups of an SFU session, in the store: who sits in which group.

A moderator splits the session (by hand, or ``count`` groups mixed by school), visits a group,
and calls everyone back. Each change runs in the caller's transaction under the session's lock
and returns who moved from which group, so the caller moves their feeds between Janus rooms.

A participant's school: a pupil's is the teacher who created the pupil's account (each partner
school's teacher creates their own pupils); a teacher is their own school.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from signaling.controls import is_moderator
from signaling.messages import RtcBreakout
from signaling.sessions import me
from signaling.sfu_feeds import clear
from signaling.state import Actor, SessionState
from twinspace_rt.auth.policy import PUPIL_ROLES, Action, Role, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import audit
from twinspace_rt.storage.models import User
from twinspace_rt.storage.video_models import Participant


@dataclass(frozen=True)
class Move:
    participant: Participant
    before: int | None


async def _moderate_sfu(tx: AsyncSession, actor: Actor) -> SessionState:
    require(actor.member, Action.video_moderate)
    state = await actor.lock_running(tx)
    if state.video.topology != "sfu":
        raise AppError(ErrorCode.conflict, "Breakout groups need a session on the SFU.")
    return state


async def _schools(tx: AsyncSession, participants: list[Participant]) -> dict[int, int]:
    """Each participant's school, as the id of the teacher it belongs to."""
    ids = [p.user_id for p in participants]
    found = await tx.exec(select(User.id, User.created_by).where(col(User.id).in_(ids)))
    creators = {user_id: created_by for user_id, created_by in found}
    schools = {}
    for p in participants:
        creator = creators.get(p.user_id)
        pupil = Role(p.role) in PUPIL_ROLES
        schools[p.user_id] = creator if pupil and creator is not None else p.user_id
    return schools


async def _mixed(
    tx: AsyncSession, state: SessionState, actor: Actor, count: int
) -> list[list[int]]:
    """Everyone who may not moderate, school after school, dealt to the groups in turn: each
    school is spread over every group, so every group mixes the schools as evenly as their
    numbers allow."""
    pupils = [p for p in state.seated() if not is_moderator(actor.member, p)]
    schools = await _schools(tx, pupils)
    ordered = sorted(pupils, key=lambda p: (schools[p.user_id], p.id or 0))
    groups: list[list[int]] = [[] for _ in range(count)]
    for index, participant in enumerate(ordered):
        groups[index % count].append(participant.id or 0)
    return groups


def _by_hand(state: SessionState, groups: list[list[int]]) -> list[list[int]]:
    named: set[int] = set()
    seated = {p.id for p in state.seated()}
    for group in groups:
        for participant_id in group:
            if participant_id not in seated:
                raise AppError(
                    ErrorCode.not_found, f"Participant {participant_id} is not in the session."
                )
            if participant_id in named:
                raise AppError(
                    ErrorCode.conflict, f"Participant {participant_id} is in two groups."
                )
            named.add(participant_id)
    return groups


def _move(state: SessionState, to: dict[int, int | None]) -> list[Move]:
    moves = []
    for participant in state.seated():
        group = to.get(participant.id or 0)
        if participant.breakout != group:
            moves.append(Move(participant, participant.breakout))
            participant.breakout = group
            clear(participant)
    return moves


async def split(
    tx: AsyncSession, actor: Actor, request: RtcBreakout
) -> tuple[SessionState, list[Move]]:
    state = await _moderate_sfu(tx, actor)
    if state.video.breakouts:
        raise AppError(ErrorCode.conflict, "Breakout groups are open: call everyone back first.")
    if request.groups is not None:
        groups = _by_hand(state, request.groups)
    else:
        assert request.count is not None
        groups = await _mixed(tx, state, actor, request.count)
    state.video.breakouts = len(groups)
    to: dict[int, int | None] = {
        pid: number for number, group in enumerate(groups, 1) for pid in group
    }
    moves = _move(state, to)
    sizes = [len(group) for group in groups]
    audit.record(tx, actor.member, "video.breakout", session_id=state.video.id, groups=sizes)
    return state, moves


async def visit(
    tx: AsyncSession, actor: Actor, group: int | None
) -> tuple[SessionState, list[Move]]:
    state = await _moderate_sfu(tx, actor)
    if group is not None and group > state.video.breakouts:
        raise AppError(ErrorCode.not_found, f"There is no breakout group {group}.")
    mine = me(state, actor.connection_id)
    moves = [] if mine.breakout == group else [Move(mine, mine.breakout)]
    if moves:
        clear(mine)
    mine.breakout = group
    return state, moves


async def recall(tx: AsyncSession, actor: Actor) -> tuple[SessionState, list[Move], int]:
    """Everyone back in the main room; returns how many groups were open."""
    state = await _moderate_sfu(tx, actor)
    opened = state.video.breakouts
    if not opened:
        raise AppError(ErrorCode.conflict, "No breakout groups are open.")
    moves = _move(state, {})
    state.video.breakouts = 0
    audit.record(tx, actor.member, "video.recall", session_id=state.video.id, groups=opened)
    return state, moves, opened
