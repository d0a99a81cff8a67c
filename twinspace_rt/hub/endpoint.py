"""The hub endpoint: the handshake, one reader per socket, and dispatch of each request."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from typing import Any

from pydantic import ValidationError
from starlette.websockets import WebSocket

from twinspace_rt import observability
from twinspace_rt.auth.budget import TokenBucket
from twinspace_rt.auth.policy import Action
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.hub.connection import Connection
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import ack, error
from twinspace_rt.ws.close_codes import CloseCode
from twinspace_rt.ws.handshake import Gate, accept, admit, held, refuse
from twinspace_rt.ws.transport import wired_writer

log = logging.getLogger(__name__)


async def hub_socket(websocket: WebSocket) -> None:
    hub: Hub = websocket.app.state.hub
    gate: Gate = websocket.app.state.gate
    conn = await _open(websocket, hub, gate)
    if conn is None:
        return
    async with held("hub", gate, conn, conn.user_id, hub.settings.ws_close_grace_seconds):
        await hub.join(conn)
        try:
            await conn.run(_read(hub, conn))
        finally:
            await hub.leave(conn)


async def _open(websocket: WebSocket, hub: Hub, gate: Gate) -> Connection | None:
    """The handshake; the account row is read here and not kept for the socket's life."""
    writer = await wired_writer(websocket)
    if writer is None:
        return None
    try:
        async with hub.db.transaction() as tx:
            user, expires_at, member = await admit(websocket, gate, tx, Action.project_view)
        await accept(websocket, gate, member)
    except AppError as exc:
        await refuse(websocket, "hub", exc, error(None, exc))
        return None
    settings = hub.settings
    return Connection(
        websocket,
        writer,
        user,
        member,
        expires_at,
        settings.ws_send_buffer_bytes,
        TokenBucket(settings.chat_rate_per_second, settings.chat_rate_burst),
        # A burst always holds at least one frame of the largest size.
        TokenBucket(
            settings.ws_read_bytes_per_second,
            max(settings.ws_read_bytes_burst, settings.ws_frame_max_bytes),
        ),
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
            size = len(text) if text.isascii() else len(text.encode())
            if size > limit:
                conn.close(CloseCode.protocol_error, f"frames are limited to {limit} bytes")
                return
            await _dispatch(hub, conn, text, size)
    except Exception:
        log.exception("hub reader for %s failed", conn.id)
        conn.close(CloseCode.internal_error, "internal error")


async def _dispatch(hub: Hub, conn: Connection, text: str, size: int) -> None:
    """Charges the frame by its size, then parses it with bounded depth, then charges the
    request: no work on a frame happens before its cost is counted."""
    request_id: str | None = None
    try:
        _charge(conn, conn.bytes_bucket, size, conn.bucket.burst)
        value = _decode(text, hub.settings.ws_json_max_depth)
        if value.get("type") == "pong":
            return
        raw_id = value.get("id")
        if isinstance(raw_id, str) and len(raw_id) <= 64 and not _UNSTORABLE.search(raw_id):
            request_id = raw_id
        if _ESCAPED_UNSTORABLE.search(text) and _has_unstorable(value):
            raise AppError(
                ErrorCode.validation_failed, "Text may not hold NUL or a lone surrogate."
            )
        bucket = conn.buckets.get(str(value.get("type")), conn.bucket)
        _charge(conn, bucket, 1, bucket.burst)
        conn.refusals = 0
        request = _validate(hub, value)
        # Shielded: a socket that closes mid-request must not cut a stored change off from
        # its broadcast, or the room would hold a message nobody was told about.
        work = asyncio.ensure_future(hub.features.handler(request.type)(hub, conn, request))
        work.add_done_callback(_settled)
        fields = await asyncio.shield(work)
        conn.push(ack(request.id, **fields))
    except AppError as exc:
        observability.refused("hub", exc.code)
        conn.push(error(request_id, exc))
    except Exception:
        log.exception("hub request failed: %.200s", text)
        conn.push(error(request_id, AppError(ErrorCode.internal_error)))


def _charge(conn: Connection, bucket: TokenBucket, cost: float, patience: int) -> None:
    """Takes ``cost`` from ``bucket`` or refuses; past ``patience`` refusals in a row the client
    is plainly ignoring them and is disconnected."""
    wait = bucket.take(cost)
    if wait is None:
        return
    conn.refusals += 1
    if conn.refusals > patience:
        conn.close(CloseCode.rate_limited, "rate limit exceeded repeatedly")
    raise AppError(ErrorCode.rate_limited, retry_after=max(1, round(wait + 0.5)))


def _settled(work: asyncio.Future[dict[str, Any]]) -> None:
    """Marks the outcome as seen: after a close nobody awaits it, and the socket is gone."""
    if not work.cancelled():
        work.exception()


def _decode(text: str, max_depth: int) -> dict[str, Any]:
    if _too_deep(text, max_depth):
        raise AppError(
            ErrorCode.validation_failed, f"Requests nest at most {max_depth} levels deep."
        )
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise AppError(ErrorCode.invalid_json, "The frame is not JSON.") from exc
    if not isinstance(value, dict):
        raise AppError(ErrorCode.invalid_json, "Send a JSON object with a `type`.")
    return value


_JSON_SPECIAL = re.compile(r'[\[\]{}"\\]')


def _too_deep(text: str, max_depth: int) -> bool:
    """Whether arrays and objects nest deeper than ``max_depth``, found before parsing (the
    parser would recurse, and a deep enough frame ends in ``RecursionError``). Linear in the
    frame; brackets inside strings do not count. Most frames have too few brackets to ask."""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    depth = 0
    in_string = False
    escaped_at = -1
    for match in _JSON_SPECIAL.finditer(text):
        char = match.group()
        if in_string:
            if match.start() == escaped_at:
                continue
            if char == "\\":
                escaped_at = match.start() + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif char in "]}":
            depth -= 1
    return False


# Characters no UTF-8 frame (a lone surrogate) or PostgreSQL text (NUL) can carry. They reach
# a ``str`` only through ``\uD800`` or ``\u0000`` escapes: frames are UTF-8, and the parser
# refuses raw control characters in strings.
_ESCAPED_UNSTORABLE = re.compile(r"\\u(?:[dD][89a-fA-F]|0000)")
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _has_unstorable(value: Any) -> bool:
    """Whether any string holds such a character (a valid pair was joined by the parser)."""
    if isinstance(value, str):
        return _UNSTORABLE.search(value) is not None
    if isinstance(value, dict):
        return any(_has_unstorable(k) or _has_unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_unstorable(v) for v in value)
    return False


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
