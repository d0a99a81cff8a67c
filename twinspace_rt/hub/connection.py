"""One hub socket: its handshake, its reader and the dispatch of each request, and its state
(identity in the room, channel cursors, request budget).

Frames go straight to the socket's transport, in push order (``transport.DirectSocket``); a
socket too slow to take them is closed with 4408 and resumes by ``seq``. How a frame is read
(depth, JSON, storable text, a registered request) is the wire format's (`hub/protocol.py`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket

from twinspace_rt import observability
from twinspace_rt.auth.budget import TokenBucket
from twinspace_rt.auth.policy import Action, Member
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.hub import protocol
from twinspace_rt.storage.models import User
from twinspace_rt.ws.close_codes import CloseCode
from twinspace_rt.ws.handshake import Gate, accept, admit, held, refuse
from twinspace_rt.ws.transport import DirectSocket, FrameWriter, OutFrame, wired_writer

if TYPE_CHECKING:
    from twinspace_rt.hub.hub import Hub
    from twinspace_rt.hub.replay import Backlog

log = logging.getLogger(__name__)

# A chat channel's id, or the name of a project stream (``forum``, ``bulletin``).
CursorKey = int | str


@dataclass
class StreamCursor:
    """Which of a stream's change numbers this socket has been sent (a chat channel, a forum).

    Every change in a channel has its own number, and a reader is sent every one of them, so
    "all up to ``contiguous``, plus ``ahead``" describes exactly what the socket holds. While the
    store is being replayed, live changes wait in ``pending``.
    """

    name: str
    # Whether a member may still read the stream: asked again after every role change.
    readable: Callable[[Member], bool]
    contiguous: int = 0
    ahead: set[int] = field(default_factory=set)
    replaying: bool = True
    pending: list[tuple[int, OutFrame]] = field(default_factory=list)
    # Reads the stream's stored changes for replay; set by whoever subscribes.
    backlog: Backlog | None = None

    def accept(self, version: int) -> bool:
        """True, and recorded as sent, when this change is new to the socket."""
        if version == self.contiguous + 1 and not self.ahead:
            self.contiguous = version
            return True
        if version <= self.contiguous or version in self.ahead:
            return False
        self.ahead.add(version)
        while self.contiguous + 1 in self.ahead:
            self.contiguous += 1
            self.ahead.discard(self.contiguous)
        return True

    def finish_replay(self, up_to: int) -> list[OutFrame]:
        """The replay covered everything up to ``up_to``; returns the held-back frames to send."""
        self.contiguous = max(self.contiguous, up_to)
        self.ahead = {v for v in self.ahead if v > self.contiguous}
        frames = [frame for version, frame in self.pending if self.accept(version)]
        self.pending.clear()
        self.replaying = False
        return frames


class Connection(DirectSocket):
    def __init__(
        self,
        websocket: WebSocket,
        writer: FrameWriter,
        user: User,
        member: Member,
        expires_at: datetime,
        buffer_limit: int,
        bucket: TokenBucket,
        bytes_bucket: TokenBucket,
    ) -> None:
        super().__init__(websocket, writer, buffer_limit)
        self.id = uuid.uuid4().hex
        # Every frame is charged here by its size before it is parsed.
        self.bytes_bucket = bytes_bucket
        # Only what the socket's life needs of the account, not the ORM row.
        self.display_name = user.display_name
        self.token_generation = user.token_generation
        self.member = member
        self.expires_at = expires_at
        self.bucket = bucket
        # Request types with a budget of their own (a video participant's burst of candidates).
        self.buckets: dict[str, TokenBucket] = {}
        self.refusals = 0
        self.status = "active"
        self.location: dict[str, Any] = {"kind": "home", "ref": None}
        # Who may see the name of that place (`hub/presence.py`): any one of these actions.
        self.location_seen_by: list[str] = []
        self.device = websocket.headers.get("user-agent", "")[:80]
        self.cursors: dict[CursorKey, StreamCursor] = {}
        # Set once the socket joins a video session: its close then gives up or holds the seat.
        self.in_video = False
        self.last_heard = time.monotonic()

    @property
    def user_id(self) -> int:
        return self.member.user_id

    def deliver(self, cursor: StreamCursor, version: int, frame: OutFrame) -> None:
        """A live change of one of this socket's streams: held back while the stream replays,
        dropped if already sent."""
        if cursor.replaying:
            cursor.pending.append((version, frame))
        elif cursor.accept(version):
            self.push_frame(frame)


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
        user, expires_at, member = await admit(websocket, gate, Action.project_view)
        await accept(websocket, gate, member)
    except AppError as exc:
        await refuse(websocket, "hub", exc, protocol.error(None, exc))
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
        value = protocol.decode(text, hub.settings.ws_json_max_depth)
        if value.get("type") == "pong":
            return
        request_id = protocol.request_id(value)
        protocol.check_storable(text, value)
        bucket = conn.buckets.get(str(value.get("type")), conn.bucket)
        _charge(conn, bucket, 1, bucket.burst)
        conn.refusals = 0
        request = protocol.validate(hub.features.adapter, value)
        # Shielded: a socket that closes mid-request must not cut a stored change off from
        # its broadcast, or the room would hold a message nobody was told about.
        work = asyncio.ensure_future(hub.features.handler(request.type)(hub, conn, request))
        work.add_done_callback(_settled)
        fields = await asyncio.shield(work)
        conn.push(protocol.ack(request.id, **fields))
    except AppError as exc:
        observability.refused("hub", exc.code)
        conn.push(protocol.error(request_id, exc))
    except Exception:
        log.exception("hub request failed: %.200s", text)
        conn.push(protocol.error(request_id, AppError(ErrorCode.internal_error)))


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
