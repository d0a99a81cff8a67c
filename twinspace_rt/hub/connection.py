"""One hub socket: its identity in the room, its bounded send buffer and its request budget.

Fan-out never waits for a socket: ``push`` writes the frame to the socket's transport at once
(see ``transport.py``), in the order pushes happen. A socket whose unsent bytes pass the buffer
limit is marked too slow (4408), so that it reconnects and resumes by ``seq``; it never holds
the room back.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.websockets import WebSocket

from twinspace_rt.auth.policy import Member
from twinspace_rt.hub.close_codes import CloseCode
from twinspace_rt.hub.transport import FrameWriter, OutFrame
from twinspace_rt.storage.models import User

log = logging.getLogger(__name__)


@dataclass
class ChannelCursor:
    """Which of a channel's change numbers this socket has been sent.

    Every change in a channel has its own number, and a reader is sent every one of them, so
    "all up to ``contiguous``, plus ``ahead``" describes exactly what the socket holds. While the
    store is being replayed, live changes wait in ``pending``.
    """

    name: str
    rule: str
    contiguous: int = 0
    ahead: set[int] = field(default_factory=set)
    replaying: bool = True
    pending: list[tuple[int, OutFrame]] = field(default_factory=list)

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
        writer: FrameWriter,
        user: User,
        member: Member,
        expires_at: datetime,
        buffer_limit: int,
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
        self.cursors: dict[int, ChannelCursor] = {}
        self.last_heard = time.monotonic()
        self.close_code: int | None = None
        self.close_reason = ""
        self._writer = writer
        self._buffer_limit = buffer_limit
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def user_id(self) -> int:
        return self.member.user_id

    @property
    def closing(self) -> bool:
        return self._closed.done()

    def push(self, text: str) -> None:
        """A frame for this socket alone."""
        self.push_frame(OutFrame(text))

    def push_frame(self, frame: OutFrame) -> None:
        """A frame that may be shared: it was serialised once for every socket it goes to."""
        if self.closing:
            return
        if not self._writer.write_frame(frame):
            self.close(None)
        elif self._writer.buffered() > self._buffer_limit:
            self.close(CloseCode.too_slow, "send buffer overflow: reconnect and resume")

    async def push_waiting(self, frame: OutFrame, timeout: float) -> None:
        """For replays: lets the socket drain first, but never waits longer than ``timeout``."""
        if self._writer.buffered() >= self._buffer_limit // 2:
            try:
                await asyncio.wait_for(self._writer.drained(), timeout)
            except TimeoutError:
                self.close(CloseCode.too_slow, "replay not consumed: reconnect and resume")
        self.push_frame(frame)

    def deliver(self, channel_id: int, version: int, frame: OutFrame) -> None:
        """A live chat change: held back while its channel replays, dropped if already sent."""
        cursor = self.cursors.get(channel_id)
        if cursor is None:
            return
        if cursor.replaying:
            cursor.pending.append((version, frame))
        elif cursor.accept(version):
            self.push_frame(frame)

    def close(self, code: int | None, reason: str = "") -> None:
        """Asks the session to end; ``None`` means the peer already left."""
        if self.closing:
            return
        self.close_code = code
        self.close_reason = reason
        self._closed.set_result(None)

    async def closed(self) -> None:
        await asyncio.shield(self._closed)
