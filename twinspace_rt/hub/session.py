"""The hub endpoint: the handshake, one reader per socket, and dispatch of each request."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from pydantic import ValidationError
from starlette.websockets import WebSocket

from twinspace_rt.auth.policy import Action
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.hub.connection import Connection
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import ack, error
from twinspace_rt.ws.budget import TokenBucket
from twinspace_rt.ws.close_codes import CloseCode
from twinspace_rt.ws.handshake import admit, close_code
from twinspace_rt.ws.transport import wired_writer

log = logging.getLogger(__name__)

async def _refuse(websocket: WebSocket, exc: AppError) -> None:
    await websocket.accept()
    await websocket.send_text(error(None, exc))
    await websocket.close(close_code(exc), exc.message[:120])


async def hub_socket(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    conn = await _open(websocket, hub)
    if conn is None:
        return
    await hub.join(conn)
    try:
        await conn.run(_read(hub, conn))
    finally:
        await hub.leave(conn)
    await conn.hang_up()


async def _open(websocket: WebSocket, hub: Hub) -> Connection | None:
    """The handshake; the account row is read here and not kept for the socket's life."""
    writer = await wired_writer(websocket)
    if writer is None:
        return None
    try:
        async with hub.db.transaction() as session:
            user, expires_at, member = await admit(
                websocket, hub.tokens, hub.settings.allowed_origins, session, Action.project_view
            )
    except AppError as exc:
        await _refuse(websocket, exc)
        return None
    await websocket.accept()
    settings = hub.settings
    return Connection(
        websocket,
        writer,
        user,
        member,
        expires_at,
        settings.ws_send_buffer_bytes,
        TokenBucket(settings.chat_rate_per_second, settings.chat_rate_burst),
    )


async def _read(hub: Hub, conn: Connection) -> None:
    limit = hub.settings.ws_frame_max_bytes
    try:
        while not conn.closing:
            message = await conn.websocket.receive()
            if message["type"] == "websocket.disconnect":
                conn.close(None)
                return
            conn.last_heard = time.monotonic()
            text = message.get("text")
            if text is None:
                conn.close(CloseCode.protocol_error, "the hub speaks JSON text frames")
                return
            if len(text) > limit or len(text.encode()) > limit:
                conn.close(CloseCode.protocol_error, f"frames are limited to {limit} bytes")
                return
            await _dispatch(hub, conn, text)
    except Exception:
        log.exception("hub reader for %s failed", conn.id)
        conn.close(CloseCode.internal_error, "internal error")


async def _dispatch(hub: Hub, conn: Connection, text: str) -> None:
    request_id: str | None = None
    try:
        value = _decode(text)
        if value.get("type") == "pong":
            return
        raw_id = value.get("id")
        request_id = raw_id if isinstance(raw_id, str) and len(raw_id) <= 64 else None
        bucket = conn.buckets.get(str(value.get("type")), conn.bucket)
        wait = bucket.take()
        if wait is not None:
            conn.refusals += 1
            if conn.refusals > bucket.burst:
                conn.close(CloseCode.rate_limited, "rate limit exceeded repeatedly")
            raise AppError(ErrorCode.rate_limited, retry_after=max(1, round(wait + 0.5)))
        conn.refusals = 0
        request = _validate(hub, value)
        # Shielded: a socket that closes mid-request must not cut a stored change off from
        # its broadcast, or the room would hold a message nobody was told about.
        work = asyncio.ensure_future(hub.features.handler(request.type)(hub, conn, request))
        work.add_done_callback(_settled)
        fields = await asyncio.shield(work)
        conn.push(ack(request.id, **fields))
    except AppError as exc:
        conn.push(error(request_id, exc))
    except Exception:
        log.exception("hub request failed: %.200s", text)
        conn.push(error(request_id, AppError(ErrorCode.internal_error)))


def _settled(work: asyncio.Future[dict[str, Any]]) -> None:
    """Marks the outcome as seen: after a close nobody awaits it, and the socket is gone."""
    if not work.cancelled():
        work.exception()


def _decode(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise AppError(ErrorCode.invalid_json, "The frame is not JSON.") from exc
    if not isinstance(value, dict):
        raise AppError(ErrorCode.invalid_json, "Send a JSON object with a `type`.")
    return value


def _validate(hub: Hub, value: dict[str, Any]) -> Any:
    try:
        return hub.features.adapter.validate_python(value)
    except ValidationError as exc:
        problems = exc.errors(include_url=False, include_context=False, include_input=False)
        if any(p["type"].startswith("union_tag") for p in problems):
            raise AppError(
                ErrorCode.validation_failed, f"Unknown request type {value.get('type')!r}."
            ) from exc
        details = [
            {"field": ".".join(str(x) for x in p["loc"][1:]), "problem": p["msg"]} for p in problems
        ]
        raise AppError(ErrorCode.validation_failed, details=details) from exc
