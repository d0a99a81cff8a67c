"""Which Janus instance holds a session, and what happens when one dies.

Placement: a new SFU session goes to the reachable instance with the fewest seated participants
in running sessions (then the fewest sessions; then the first configured). The choice is stored
with the session (``video_sessions.media_server``), so every node signals it on the same
instance.

Failover: a node whose connection to an instance drops moves that instance's running sessions
to the least loaded reachable one: in one transaction per session, a conditional update (only
if the session is still on the dead instance, so of several nodes noticing at once one moves it)
and the creation of its rooms (the main one and its breakout groups') on the new instance. The
session's participants are then told with ``rtc.media_restart``: each publishes and subscribes
again, on the new instance, through the same requests as before.
"""

from __future__ import annotations

import logging

from sqlalchemy import func
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from signaling.sfu import Sfu
from signaling.sfu_feeds import clear
from signaling.state import read, reread
from signaling.telling import announce
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.hub import events
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import push
from twinspace_rt.storage.video_models import SEATED, Participant, VideoSession

log = logging.getLogger(__name__)


async def _loads(tx: AsyncSession) -> dict[str, tuple[int, int]]:
    """(seated participants, sessions) of running SFU sessions, by instance."""
    found = await tx.exec(
        select(VideoSession.media_server, func.count(col(Participant.id)))
        .outerjoin(
            Participant,
            (col(Participant.session_id) == col(VideoSession.id))
            & col(Participant.state).in_(SEATED),
        )
        .where(col(VideoSession.active_project_id).is_not(None), VideoSession.topology == "sfu")
        .group_by(col(VideoSession.id), col(VideoSession.media_server))
    )
    loads: dict[str, tuple[int, int]] = {}
    for server, seated in found:
        if server is not None:
            people, sessions = loads.get(server, (0, 0))
            loads[server] = (people + int(seated), sessions + 1)
    return loads


async def choose(tx: AsyncSession, sfu: Sfu, but: str | None = None) -> str:
    """The least loaded reachable instance (``media_unavailable`` when none is)."""
    loads = await _loads(tx)
    candidates = [s for s in sfu.links.servers if s != but]
    for server in sorted(candidates, key=lambda s: loads.get(s, (0, 0))):
        if await sfu.links.reachable(server):
            return server
    raise AppError(ErrorCode.media_unavailable)


async def fail_over(hub: Hub, sfu: Sfu, dead: str) -> None:
    """Moves every running session of a lost instance to another one and tells its room."""
    async with hub.db.reader() as tx:
        found = await tx.exec(
            select(VideoSession.id).where(
                col(VideoSession.active_project_id).is_not(None),
                col(VideoSession.media_server) == dead,
            )
        )
        session_ids = [session_id for session_id in found if session_id is not None]
    for session_id in session_ids:
        try:
            await _move(hub, sfu, session_id, dead)
        except AppError as exc:
            log.warning("video session %s stays on a lost media server: %s", session_id, exc)


async def _move(hub: Hub, sfu: Sfu, session_id: int, dead: str) -> None:
    async with hub.db.transaction() as tx:
        target = await choose(tx, sfu, but=dead)
        moved = await tx.exec(
            update(VideoSession)
            .where(col(VideoSession.id) == session_id, col(VideoSession.media_server) == dead)
            .values(media_server=target, version=col(VideoSession.version) + 1)
            .returning(col(VideoSession.id))
        )
        if moved.scalar_one_or_none() is None:
            return  # another node moved it first
        video = await reread(tx, session_id)
        state = await read(tx, video)
        for participant in state.participants:
            clear(participant)  # every feed was on the lost instance
        for group in (None, *range(1, video.breakouts + 1)):
            await sfu.create_room(sfu.room(video, group), video.max_participants)
    log.warning("video session %s moved from media server %s to %s", session_id, dead, target)
    await announce(hub, video.project_id, state)
    frame = push("rtc.media_restart", session_id=session_id)
    await hub.publish(video.project_id, events.to_everyone(frame))
