"""The ``rtc.*`` requests of breakout groups (``video.moderate``, SFU sessions): split, visit,
recall, and a message to every group.

Each group is its own Janus room (`sfu_rooms.room_of` with the group's number), created with the
split inside its transaction, as the main room is with the session. A participant moved between
rooms leaves the old one as if it had left the session there (its tokens withdrawn, its handles
detached wherever they are, ``rtc.feed`` with ``live: false`` to that room, its feeds cleared
from the state), and is told its new group with
``rtc.moved``: its client publishes and subscribes again, and the server lets it reach only the
feeds of its own group. Recalling destroys the groups' rooms.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from signaling import breakouts, sfu_cluster
from signaling.breakouts import Move
from signaling.messages import RtcBreakout, RtcBroadcast, RtcRecall, RtcVisit
from signaling.sfu import Sfu
from signaling.state import SessionState
from signaling.telling import actor, announce, tell
from twinspace_rt.auth.policy import Action, require
from twinspace_rt.hub import events
from twinspace_rt.hub.connection import Connection
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import push
from twinspace_rt.hub.request import Request


async def _moved(hub: Hub, sfu: Sfu, state: SessionState, moves: list[Move]) -> dict[str, Any]:
    video = state.video
    for move in moves:
        await sfu_cluster.gone_from_sfu(
            hub, sfu, state, move.participant, group=move.before, moved=True
        )
    payload = await announce(hub, video.project_id, state)
    for move in moves:
        frame = push("rtc.moved", group=move.participant.breakout, session=payload)
        await tell(hub, video.project_id, move.participant.connection_id, frame)
    return payload


async def breakout(hub: Hub, conn: Connection, request: RtcBreakout, *, sfu: Sfu) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        state, moves = await breakouts.split(tx, actor(hub, conn), request)
        for group in range(1, state.video.breakouts + 1):
            room = sfu.room(state.video, group)
            await sfu.create_room(room, state.video.max_participants)
    return {"session": await _moved(hub, sfu, state, moves)}


async def visit(hub: Hub, conn: Connection, request: RtcVisit, *, sfu: Sfu) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        state, moves = await breakouts.visit(tx, actor(hub, conn), request.group)
    return {"session": await _moved(hub, sfu, state, moves)}


async def recall(hub: Hub, conn: Connection, request: RtcRecall, *, sfu: Sfu) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        state, moves, opened = await breakouts.recall(tx, actor(hub, conn))
    payload = await _moved(hub, sfu, state, moves)
    for group in range(1, opened + 1):
        room = sfu.room(state.video, group)
        await sfu.destroy_room(room)
        await sfu_cluster.ended(hub, room.id)
    return {"session": payload}


async def broadcast(
    hub: Hub, conn: Connection, request: RtcBroadcast, *, sfu: Sfu
) -> dict[str, Any]:
    """To every socket of the room, whatever group it sits in."""
    require(conn.member, Action.video_moderate)
    frame = push("rtc.broadcast", text=request.text, by=conn.user_id, name=conn.display_name)
    await hub.publish(conn.member.project_id, events.to_everyone(frame))
    return {}


# Each handler takes the node's `Sfu` as `sfu=` (bound in `handlers.register`).
REQUESTS: tuple[tuple[type[Request], Callable[..., Awaitable[dict[str, Any]]]], ...] = (
    (RtcBreakout, breakout),
    (RtcVisit, visit),
    (RtcRecall, recall),
    (RtcBroadcast, broadcast),
)
