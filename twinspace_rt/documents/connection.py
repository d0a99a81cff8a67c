"""One Yjs socket: who it is, whether it may write, its awareness ids and its send queue.

Like a hub socket (`hub/connection.py`), fan-out never waits for it: frames go to a bounded
queue drained by one writer task, and a full queue closes the socket as too slow (4408); its
client resyncs on reconnect. Each queued frame is one y-websocket message.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import deque
from datetime import datetime

from starlette.websockets import WebSocket

from twinspace_rt.auth.policy import Action, Member, can
from twinspace_rt.hub.close_codes import CloseCode
from twinspace_rt.hub.connection import TokenBucket


class DocConnection:
    def __init__(
        self,
        websocket: WebSocket,
        member: Member,
        token_generation: int,
        expires_at: datetime,
        queue_size: int,
        bucket: TokenBucket,
    ) -> None:
        self.id = uuid.uuid4().hex
        self.websocket = websocket
        self.member = member
        self.token_generation = token_generation
        self.expires_at = expires_at
        self.bucket = bucket
        # The awareness client ids this socket announced: removed for everyone when it closes.
        self.client_ids: set[int] = set()
        self.close_code: int | None = None
        self.close_reason = ""
        self._frames: deque[bytes] = deque()
        self._queue_size = queue_size
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queued: asyncio.Future[None] | None = None

    @property
    def user_id(self) -> int:
        return self.member.user_id

    @property
    def writable(self) -> bool:
        """Asked on every update, so a role change or archiving applies to the next one."""
        return can(self.member, Action.doc_edit)

    @property
    def closing(self) -> bool:
        return self._closed.done()

    def push(self, frame: bytes) -> None:
        if self.closing:
            return
        if len(self._frames) >= self._queue_size:
            self.close(CloseCode.too_slow, "send queue overflow: reconnect")
            return
        self._frames.append(frame)
        if self._queued is not None and not self._queued.done():
            self._queued.set_result(None)

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
                await self.websocket.send_bytes(self._frames.popleft())
            self._queued = loop.create_future()
            await self._queued
