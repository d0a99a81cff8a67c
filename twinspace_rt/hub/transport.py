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

from typing import Protocol

import uvicorn
from starlette.types import ASGIApp, Scope
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Request

from twinspace_rt.settings import Settings

EXTENSION = "twinspace.frame_writer"


class OutFrame:
    """One text frame, serialised once however many sockets it goes to."""

    __slots__ = ("text", "wire")

    def __init__(self, text: str) -> None:
        self.text = text
        self.wire = Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


class FrameWriter(Protocol):
    """What a hub connection needs from its socket's transport."""

    def write_frame(self, frame: OutFrame) -> bool:
        """Writes now; False once the socket is closing or closed."""

    def buffered(self) -> int:
        """Bytes written but not yet taken by the kernel."""

    async def drained(self) -> None:
        """Returns once the buffer is below the transport's low-water mark."""


class HubWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, plus the hub's synchronous frame writer."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101:
            self.scope["extensions"][EXTENSION] = {"writer": self}

    def write_frame(self, frame: OutFrame) -> bool:
        if (
            not self.handshake_complete
            or self.close_sent
            or self.disconnected
            or self.transport.is_closing()
        ):
            return False
        if self.conn.extensions:
            # Compression was negotiated: this socket's copy is encoded by its own context.
            self.conn.send_text(frame.text.encode())
            self.transport.write(b"".join(self.conn.data_to_send()))
        else:
            self.transport.write(frame.wire)
        return True

    def buffered(self) -> int:
        return self.transport.get_write_buffer_size()

    async def drained(self) -> None:
        await self.writable.wait()


def frame_writer(scope: Scope) -> FrameWriter | None:
    """The socket's writer, or None when the server is not run with ``HubWebSocketProtocol``."""
    extension = scope.get("extensions", {}).get(EXTENSION)
    writer: FrameWriter | None = None if extension is None else extension["writer"]
    return writer


def uvicorn_config(
    app: ASGIApp, settings: Settings, host: str, port: int, log_level: str
) -> uvicorn.Config:
    """The one way this product runs uvicorn: the CLI, the tests and the benchmarks use it."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        lifespan="on",
        ws=HubWebSocketProtocol,
        ws_per_message_deflate=settings.ws_compression,
    )
