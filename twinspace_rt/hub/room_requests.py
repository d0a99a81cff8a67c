"""The hub core's own requests, about being in the project room: liveness, a fresh token,
presence."""

from __future__ import annotations

from typing import Any

from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.hub.connection import Connection
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import AuthRefresh, Location, Ping, PresenceUpdate
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
        conn.location, conn.location_seen_by = await _placed(hub, conn, request.location)
    await hub.presence_changed(conn)
    return {}


async def _placed(
    hub: Hub, conn: Connection, location: Location
) -> tuple[dict[str, Any], list[str]]:
    """The place as stored, with who may see its name: a place the member cannot be in (a
    pupil claiming the teachers' room) keeps its kind only."""
    hook = hub.features.places.get(location.kind)
    if hook is None or location.ref is None:
        return location.model_dump(), []
    readers = await hook(hub, conn, location.ref)
    if readers is None:
        return {"kind": location.kind, "ref": None}, []
    return location.model_dump(), [" ".join(a.value for a in actions) for actions in readers]


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
