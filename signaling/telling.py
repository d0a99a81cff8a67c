"""How video signaling tells: the session's state to every socket of the room, a frame to one
participant's socket. Both travel as broker events, so they reach sockets on every node."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from signaling.state import Actor, SessionState
from twinspace_rt.hub import events
from twinspace_rt.hub.connection import Connection
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import push


async def announce(hub: Hub, project_id: int, state: SessionState) -> dict[str, Any]:
    payload = state.payload()
    await hub.publish(project_id, events.to_everyone(push("rtc.session", session=payload)))
    return payload


async def tell(hub: Hub, project_id: int, connection_id: str | None, frame: str) -> None:
    if connection_id is not None:
        await hub.publish(project_id, events.to_connection(connection_id, frame))


def actor(hub: Hub, conn: Connection) -> Actor:
    return Actor(conn.member, conn.id, datetime.now(UTC), hub.settings.rtc_rejoin_grace_seconds)
