"""Requests about being in the room: liveness, a fresh token, presence, typing."""

from __future__ import annotations

from typing import Any

from twinspace_rt.chat import channels
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.hub import events
from twinspace_rt.hub.connection import Connection
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import AuthRefresh, Ping, PresenceUpdate, Typing, push
from twinspace_rt.projects.accounts import session_for_token


async def ping(hub: Hub, conn: Connection, request: Ping) -> dict[str, Any]:
    return {}


async def auth_refresh(hub: Hub, conn: Connection, request: AuthRefresh) -> dict[str, Any]:
    async with hub.db.transaction() as session:
        user, expires_at, _ = await session_for_token(session, hub.tokens, request.token)
    if user.id != conn.user_id:
        raise AppError(ErrorCode.token_invalid, "The new token is for another user.")
    conn.display_name = user.display_name
    conn.expires_at = expires_at
    return {"expires_at": expires_at}


async def presence_update(hub: Hub, conn: Connection, request: PresenceUpdate) -> dict[str, Any]:
    if request.status is not None:
        conn.status = request.status
    if request.location is not None:
        conn.location = request.location.model_dump()
    await hub.presence_changed(conn)
    return {}


async def typing(hub: Hub, conn: Connection, request: Typing) -> dict[str, Any]:
    """Ephemeral: relayed to readers of the channel who subscribed to it, never stored."""
    async with hub.db.reader() as session:
        channel = await channels.by_name(session, conn.member, request.channel)
    channels.require_write(conn.member, channel)
    assert channel.id is not None
    frame = push(
        "typing", channel=channel.name, user_id=conn.user_id, display_name=conn.display_name
    )
    await hub.publish(
        conn.member.project_id, events.typing(channel.id, channel.rule, conn.user_id, frame)
    )
    return {}
