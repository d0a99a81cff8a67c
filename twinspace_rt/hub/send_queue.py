"""A socket's bounded send queue, its one writer and its close signal: hub and Yjs sockets.

Fan-out never waits for a socket: ``push`` either queues or, when the queue is full, marks the
socket too slow (4408) so that it reconnects. One writer task drains the queue, so frames leave
in the order they were queued. The queue is a plain deque with a future to wake the writer: an
``asyncio.Queue`` costs three deques per socket, and a school server holds thousands of idle
sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

from starlette.websockets import WebSocket

from twinspace_rt.hub.close_codes import CloseCode

Frame = TypeVar("Frame", str, bytes)


class QueuedSocket(Generic[Frame]):
    overflow_reason = "send queue overflow: reconnect"

    def __init__(
        self, websocket: WebSocket, send: Callable[[Frame], Awaitable[None]], queue_size: int
    ) -> None:
        self.websocket = websocket
        self.close_code: int | None = None
        self.close_reason = ""
        self._send: Callable[[Frame], Awaitable[None]] = send
        self._frames: deque[Frame] = deque()
        self._queue_size = queue_size
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._frame_queued: asyncio.Future[None] | None = None
        self._frame_sent: asyncio.Future[None] | None = None

    @property
    def closing(self) -> bool:
        return self._closed.done()

    def push(self, frame: Frame) -> None:
        if self.closing:
            return
        if len(self._frames) >= self._queue_size:
            self.close(CloseCode.too_slow, self.overflow_reason)
            return
        self._frames.append(frame)
        _wake(self._frame_queued)

    def close(self, code: int | None, reason: str = "") -> None:
        """Asks the session to end; ``None`` means the peer already left."""
        if self.closing:
            return
        self.close_code = code
        self.close_reason = reason
        self._closed.set_result(None)

    async def closed(self) -> None:
        await asyncio.shield(self._closed)

    async def run(self, reader: Coroutine[Any, Any, None]) -> None:
        """Runs the writer and ``reader`` until the socket is asked to close."""
        tasks = [asyncio.create_task(self.write()), asyncio.create_task(reader)]
        try:
            await self.closed()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def hang_up(self) -> None:
        """Sends the close code the session ended with (none if the peer left first)."""
        if self.close_code is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.websocket.close(self.close_code, self.close_reason), 2)

    async def write(self) -> None:
        """Drains the queue for the socket's life; the session cancels it on close."""
        loop = asyncio.get_running_loop()
        while True:
            while self._frames:
                await self._send(self._frames.popleft())
                _wake(self._frame_sent)
            self._frame_queued = loop.create_future()
            await self._frame_queued


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
