"""Frame once, write many: how hub frames reach the wire.

A chat message goes to every socket of a room. Through ASGI, each copy would be its own
``send`` coroutine, framed anew by the WebSocket library, and handed over through a writer task:
most of the hub's CPU at classroom scale. uvicorn's sans-I/O WebSocket protocol already writes
synchronously to the transport, so ``HubWebSocketProtocol`` offers the application that
synchronous path as an ASGI extension: a frame is serialised once per event and the same bytes
are written to each transport. Everything else (handshake, reading, pings, closing) stays
uvicorn's ASGI path, so other WebSocket endpoints are unaffected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
import struct
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol, cast

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Match, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket
from uvicorn._types import ASGIReceiveEvent, ASGISendEvent
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Request

from twinspace_rt.settings import Settings
from twinspace_rt.ws.close_codes import CloseCode
from twinspace_rt.ws.uvicorn_check import check_uvicorn

log = logging.getLogger(__name__)

EXTENSION = "twinspace.frame_writer"


class OutFrame:
    """One message (text for the hub, binary for Yjs), serialised once for all its sockets; or
    several, back to back (``joined``), for one write per socket."""

    __slots__ = ("payloads", "wire")

    def __init__(self, payload: str | bytes) -> None:
        self.payloads: tuple[str | bytes, ...] = (payload,)
        if isinstance(payload, str):
            self.wire = Frame(Opcode.TEXT, payload.encode()).serialize(mask=False)
        else:
            self.wire = Frame(Opcode.BINARY, payload).serialize(mask=False)

    @classmethod
    def joined(cls, frames: list[OutFrame]) -> OutFrame:
        """Still one WebSocket frame per message (a y-websocket client reads one message per
        frame), only written together."""
        together = cls.__new__(cls)
        together.payloads = tuple(p for frame in frames for p in frame.payloads)
        together.wire = b"".join(frame.wire for frame in frames)
        return together


# What ``write_frame`` did with a frame.
WRITTEN, GONE, FULL = 0, 1, 2


class FrameWriter(Protocol):
    """What a hub connection needs from its socket's transport."""

    def write_frame(self, frame: OutFrame, buffer_limit: int) -> int:
        """Writes now, and says so (``WRITTEN``); ``GONE`` once the socket is closing or closed;
        ``FULL`` without writing while more than ``buffer_limit`` bytes wait to be sent."""

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""

    async def drained(self) -> None:
        """Returns once the buffer is below the transport's low-water mark."""

    def close_now(self, code: int, reason: str, grace: float) -> None:
        """Sends the close frame without waiting; the connection is reset after ``grace``
        seconds if the peer has not finished closing by then."""


# What a socket open when its node stops is told, and how long the node waits for the client's
# closing handshake before it resets the connection.
SHUTDOWN_REASON = "server shutting down: reconnect and resume"
SHUTDOWN_GRACE_SECONDS = 5.0


class _Inbox:
    """The received messages of one socket, for its one reader: what uvicorn's ``asyncio.Queue``
    did there, in a list and one future while the reader waits. A ``Queue`` holds four deques
    (its items, getters, putters, and an ``Event``'s waiters), about 2.5 KiB for every idle
    socket of a node."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[ASGIReceiveEvent] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: ASGIReceiveEvent) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def get(self) -> ASGIReceiveEvent:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items


class HubWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, plus the hub's synchronous frame writer, and less
    kept per socket for its whole life: `_Inbox`, and the handshake's parsed headers emptied
    once used (the request's are held by the websockets parser's generator, the response's by
    uvicorn; neither is read again), about 2 KiB."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = cast("asyncio.Queue[ASGIReceiveEvent]", _Inbox())

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        event.headers.clear()  # the scope has its own copy
        if self.response.status_code == 101:
            self.scope["extensions"][EXTENSION] = {"writer": self}

    async def send(self, message: ASGISendEvent) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept" and self.handshake_complete:
            self.response.headers.clear()  # sent

    def write_frame(self, frame: OutFrame, buffer_limit: int) -> int:
        """Called once per socket per delivered message: kept to attribute reads and one call
        into the transport besides the write itself."""
        transport = self.transport
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or transport.is_closing()
        ):
            return GONE
        # Measured before writing, so one large message (a document's step 2) always goes out.
        if transport.get_write_buffer_size() > buffer_limit:
            return FULL
        if self.conn.extensions:
            # Compression was negotiated: this socket's copy is encoded by its own context.
            for payload in frame.payloads:
                if isinstance(payload, str):
                    self.conn.send_text(payload.encode())
                else:
                    self.conn.send_binary(payload)
            transport.write(b"".join(self.conn.data_to_send()))
        else:
            transport.write(frame.wire)
        return WRITTEN

    def send_receive_event_to_app(self) -> None:
        """A text frame that is not UTF-8 is refused input, not a server fault: closed with 1007
        as uvicorn does, but without the traceback uvicorn logs for it."""
        if self.curr_msg_data_type == "text" and not self.close_sent:
            try:
                b"".join(self.frames).decode()
            except UnicodeDecodeError:
                self.frames = []
                self.conn.send_close(1007, "text frames must be UTF-8")
                self.handle_parser_exception()
                return
        super().send_receive_event_to_app()

    def shutdown(self) -> None:
        """uvicorn is stopping (SIGTERM, a rolling restart): an open socket is closed with 1001
        and the reason clients act on, so they reconnect through the proxy to another node and
        resume (docs/PROTOCOL.md). uvicorn itself would send 1012 here, before the application's
        own shutdown could say anything; the close then goes out as uvicorn's would."""
        if self.handshake_complete and not (self.close_sent or self.disconnected):
            self.close_now(CloseCode.going_away, SHUTDOWN_REASON, SHUTDOWN_GRACE_SECONDS)
        super().shutdown()

    def close_now(self, code: int, reason: str, grace: float) -> None:
        """Writes the close frame at once, behind whatever is buffered (ASGI's close would first
        wait for the buffer to drain, which a peer that stopped reading never lets happen), and
        resets the connection if it is still there after ``grace`` seconds."""
        if not (self.close_sent or self.disconnected or self.transport.is_closing()):
            self.conn.send_close(code, reason)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True
        asyncio.get_running_loop().call_later(grace, self._reset)

    def _reset(self) -> None:
        """Closing alone would wait for the unsent bytes forever, and the kernel would keep
        offering them to a peer that never reads: a reset frees both at once."""
        if self.disconnected:
            return
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.transport.abort()

    def buffered(self) -> int:
        return self.transport.get_write_buffer_size()

    async def drained(self) -> None:
        await self.writable.wait()


class DirectSocket:
    """A socket whose frames go straight to its transport, and its close signal.

    ``push_frame`` never waits: a socket whose unsent bytes pass ``buffer_limit`` is marked too
    slow (4408), so that it reconnects and resumes; it never holds the room back.
    """

    def __init__(self, websocket: WebSocket, writer: FrameWriter, buffer_limit: int) -> None:
        self.websocket = websocket
        self.close_code: int | None = None
        self.close_reason = ""
        # Set once, by ``close``; read for every frame pushed.
        self.closing = False
        self._writer = writer
        self._buffer_limit = buffer_limit
        self._closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def push(self, payload: str | bytes) -> None:
        """A message for this socket alone."""
        self.push_frame(OutFrame(payload))

    def push_frame(self, frame: OutFrame) -> None:
        """A message that may be shared: serialised once for every socket it goes to."""
        if self.closing:
            return
        # A peer that is gone (``GONE``) is not closed here: what it sent before it left still
        # waits to be read, and its reader ends at the disconnect that follows.
        if self._writer.write_frame(frame, self._buffer_limit) == FULL:
            self.close(CloseCode.too_slow, "send buffer overflow: reconnect and resume")

    async def push_waiting(self, frame: OutFrame, timeout: float) -> None:
        """For replays: lets the socket drain first, but never waits longer than ``timeout``."""
        if self.closing:
            return
        if self._writer.buffered() >= self._buffer_limit // 2:
            try:
                await asyncio.wait_for(self._writer.drained(), timeout)
            except TimeoutError:
                self.close(CloseCode.too_slow, "replay not consumed: reconnect and resume")
        self.push_frame(frame)

    def close(self, code: int | None, reason: str = "") -> None:
        """Asks the session to end; ``None`` means the peer already left."""
        if self.closing:
            return
        self.closing = True
        self.close_code = code
        self.close_reason = reason
        if not self._closed.done():  # cancelled with the session's task (the node stopping)
            self._closed.set_result(None)

    async def run(self, reader: Coroutine[Any, Any, None]) -> None:
        """Runs ``reader`` until the socket is asked to close. ``_closed`` is awaited without a
        shield (which costs every idle socket a future and two callbacks): only this task awaits
        it, and ``close`` knows it may find it cancelled."""
        task = asyncio.create_task(reader)
        try:
            await self._closed
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def hang_up(self, grace: float) -> None:
        """Sends the close code the session ended with (none if the peer left first); a peer
        that has not completed the close ``grace`` seconds later is cut off."""
        if self.close_code is not None:
            self._writer.close_now(self.close_code, self.close_reason, grace)


async def wired_writer(websocket: WebSocket) -> FrameWriter | None:
    """The socket's frame writer; without one (not `twinspace-rt serve`) closes it with why."""
    extension = websocket.scope.get("extensions", {}).get(EXTENSION)
    if extension is not None:
        writer: FrameWriter = extension["writer"]
        return writer
    log.error("WebSockets need uvicorn with HubWebSocketProtocol: run `twinspace-rt serve`")
    await websocket.accept()
    await websocket.close(CloseCode.internal_error, "server not started with twinspace-rt serve")
    return None


class RedactTokens(logging.Filter):
    """Browsers must put the token in the WebSocket URL; uvicorn logs that URL on accept."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                _TOKEN.sub(r"\1***", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        return True


_TOKEN = re.compile(r"([?&]token=)[^&\s\"]+")
_REDACT = RedactTokens()


class SocketsFirst:
    """The app as uvicorn runs it: a WebSocket route's endpoint is called straight away, and
    everything else (HTTP, lifespan, a socket no route takes) goes through the app.

    A socket lives for hours, and each ASGI layer it passes keeps a coroutine for that whole
    time: the app, its error and exception middleware and their wrappers, the router, the
    route's exception wrapper, about 4 KiB per idle socket in all. Our socket endpoints answer
    every refusal themselves, with a close code (`ws/handshake.py`), so they need none of it;
    the route still says which endpoint a path names, as it does for the router.
    """

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.routes = [r for r in app.router.routes if isinstance(r, WebSocketRoute)]

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        if scope["type"] == "websocket":
            for route in self.routes:
                match, child = route.matches(scope)
                if match is Match.FULL:
                    scope.update(child)
                    scope["app"] = self.app
                    endpoint: Callable[[WebSocket], Awaitable[None]] = route.endpoint
                    return endpoint(WebSocket(scope, receive, send))
        return self.app(scope, receive, send)


def uvicorn_config(
    app: ASGIApp, settings: Settings, host: str, port: int, log_level: str
) -> uvicorn.Config:
    """The one way this product runs uvicorn: the CLI, the tests and the benchmarks use it.

    Forwarded headers are read only from `trusted_proxies` (uvicorn alone trusts 127.0.0.1,
    which any local process or a proxy that passes the header through can abuse)."""
    check_uvicorn(WebSocketsSansIOProtocol, uvicorn.__version__)
    config = uvicorn.Config(
        SocketsFirst(app) if isinstance(app, Starlette) else app,
        interface="asgi3",  # SocketsFirst returns its awaitable rather than being a coroutine
        host=host,
        port=port,
        log_level=log_level,
        lifespan="on",
        ws=HubWebSocketProtocol,
        ws_per_message_deflate=settings.ws_compression,
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=settings.trusted_proxies,
    )
    for name in ("uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).addFilter(_REDACT)
    return config
