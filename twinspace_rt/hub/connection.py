"""One hub socket: its identity in the room, its request budget, and (from `QueuedSocket`) its
bounded send queue: a socket too slow for its queue is closed with 4408 and resumes by ``seq``.
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
from twinspace_rt.hub.send_queue import QueuedSocket
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
    pending: list[tuple[int, str]] = field(default_factory=list)

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


class Connection(QueuedSocket[str]):
    overflow_reason = "send queue overflow: reconnect and resume"

    def __init__(
        self,
        websocket: WebSocket,
        user: User,
        member: Member,
        expires_at: datetime,
        queue_size: int,
        bucket: TokenBucket,
    ) -> None:
        super().__init__(websocket, websocket.send_text, queue_size)
        self.id = uuid.uuid4().hex
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

    @property
    def user_id(self) -> int:
        return self.member.user_id

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

    def deliver(self, channel_id: int, version: int, frame: str) -> None:
        """A live chat change: held back while its channel replays, dropped if already sent."""
        cursor = self.cursors.get(channel_id)
        if cursor is None:
            return
        if cursor.replaying:
            cursor.pending.append((version, frame))
        elif cursor.accept(version):
            self.push(frame)
