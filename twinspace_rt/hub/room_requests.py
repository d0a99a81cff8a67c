"""The hub core's own requests, about being in the project room: liveness, a fresh token,
presence."""

from __future__ import annotations

from typing import Any

from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.hub.connection import Connection
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import AuthRefresh, Ping, PresenceUpdate
from twinspace_rt.projects.accounts import sign_in_for_token


async def ping(hub: Hub, conn: Connection, request: Ping) -> dict[str, Any]:
    return {}


async def auth_refresh(hub: Hub, conn: Connection, request: AuthRefresh) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        user, expires_at, _ = await sign_in_for_token(tx, hub.tokens, request.token)
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


def register(hub: Hub) -> None:
    for model, handler in (
        (Ping, ping),
        (AuthRefresh, auth_refresh),
        (PresenceUpdate, presence_update),
    ):
        hub.features.request("hub", model, handler)
    for name, summary in (
        ("presence.state", "who is in the room: the new socket's first frame"),
        ("presence.join", "a user came online"),
        ("presence.update", "a user's status or location changed"),
        ("presence.leave", "a user went offline"),
        ("room.changed", "the socket's role or the project's status changed"),
        ("ping", "liveness, every ~25 s"),
    ):
        hub.features.push("hub", name, summary)
