"""One hub socket: its identity in the room, its bounded send queue and its request budget.

Fan-out never waits for a socket: ``push`` either queues or, when the queue is full, marks the
socket too slow (4408) so that it reconnects and resumes by ``seq``. One writer task drains the
queue, so frames leave in the order they were queued. The queue is a plain deque with a future
to wake the writer: an ``asyncio.Queue`` costs three deques per socket, and a school server
holds thousands of idle sockets.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket

from twinspace_rt.auth.policy import Member
from twinspace_rt.hub.close_codes import CloseCode
from twinspace_rt.storage.models import User

if TYPE_CHECKING:
    from twinspace_rt.hub.replay import Backlog

log = logging.getLogger(__name__)

# A chat channel's id, or the name of a project stream (``forum``, ``bulletin``).
CursorKey = int | str


@dataclass
class ChannelCursor:
    """Which of a stream's change numbers this socket has been sent (a chat channel, a forum).

    Every change in a channel has its own number, and a reader is sent every one of them, so
    "all up to ``contiguous``, plus ``ahead``" describes exactly what the socket holds. While the
    store is being replayed, live changes wait in ``pending``.
    """

    name: str
    rule: str
    contiguous: int = 0
    ahead: set[int] = field(default_factory=set)
    replaying: bool = True
    pending: list[tuple[int, str]] = field(default_factory=list)
    # Reads the stream's stored changes for replay; set by whoever subscribes.
    backlog: Backlog | None = None

    def accept(self, version: int) -> bool:
        """True, and recorded as sent, when this change is new to the socket."""
        if version <= self.contiguous or version in self.ahead:
            return False
        self.ahead.add(version)
        while self.contiguous + 1 in self.ahead:
            self.contiguous += 1
            self.ahead.discard(self.contiguous)
        return True

    def finish_replay(self, up_to: int) -> list[str]:
        """The replay covered everything up to ``up_to``; returns the held-back frames to send."""
        self.contiguous = max(self.contiguous, up_to)
        self.ahead = {v for v in self.ahead if v > self.contiguous}
        frames = [frame for version, frame in self.pending if self.accept(version)]
        self.pending.clear()
        self.replaying = False
        return frames


class TokenBucket:
    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = time.monotonic()

    def take(self) -> float | None:
        """None when allowed; otherwise seconds until a token is available."""
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


class Connection:
    def __init__(
        self,
        websocket: WebSocket,
        user: User,
        member: Member,
        expires_at: datetime,
        queue_size: int,
        bucket: TokenBucket,
    ) -> None:
        self.id = uuid.uuid4().hex
        self.websocket = websocket
        # Only what the socket's life needs of the account, not the ORM row.
        self.display_name = user.display_name
        self.token_generation = user.token_generation
        self.member = member
        self.expires_at = expires_at
        self.bucket = bucket
        self.refusals = 0
        self.status = "active"
        self.location: dict[str, Any] = {"kind": "home", "ref": None}
        self.device = websocket.headers.get("user-agent", "")[:80]
        self.cursors: dict[CursorKey, ChannelCursor] = {}
        self.last_heard = time.monotonic()
        self.close_code: int | None = None
        self.close_reason = ""
        self._frames: deque[str] = deque()
        self._queue_size = queue_size
        loop = asyncio.get_running_loop()
        self._closed: asyncio.Future[None] = loop.create_future()
        self._frame_queued: asyncio.Future[None] | None = None
        self._frame_sent: asyncio.Future[None] | None = None

    @property
    def user_id(self) -> int:
        return self.member.user_id

    @property
    def closing(self) -> bool:
        return self._closed.done()

    def push(self, frame: str) -> None:
        if self.closing:
            return
        if len(self._frames) >= self._queue_size:
            self.close(CloseCode.too_slow, "send queue overflow: reconnect and resume")
            return
        self._frames.append(frame)
        _wake(self._frame_queued)

    async def push_waiting(self, frame: str, timeout: float) -> None:
        """For replays: waits for room in the queue, but never longer than ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(self._frames) >= self._queue_size and not self.closing:
            if self._frame_sent is None or self._frame_sent.done():
                self._frame_sent = loop.create_future()
            try:
                async with asyncio.timeout_at(deadline):
                    await asyncio.shield(self._frame_sent)
            except TimeoutError:
                self.close(CloseCode.too_slow, "replay not consumed: reconnect and resume")
        self.push(frame)

    def deliver(self, key: CursorKey, version: int, frame: str) -> None:
        """A live change: held back while its stream replays, dropped if already sent."""
        cursor = self.cursors.get(key)
        if cursor is None:
            return
        if cursor.replaying:
            cursor.pending.append((version, frame))
        elif cursor.accept(version):
            self.push(frame)

    def close(self, code: int | None, reason: str = "") -> None:
        """Asks the session to end; ``None`` means the peer already left."""
        if self.closing:
            return
        self.close_code = code
        self.close_reason = reason
        self._closed.set_result(None)

    async def closed(self) -> None:
        await asyncio.shield(self._closed)

    async def write(self) -> None:
        """Drains the queue for the socket's life; the session cancels it on close."""
        loop = asyncio.get_running_loop()
        while True:
            while self._frames:
                await self.websocket.send_text(self._frames.popleft())
                _wake(self._frame_sent)
            self._frame_queued = loop.create_future()
            await self._frame_queued


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
