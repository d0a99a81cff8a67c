"""A y-websocket client built on pycrdt, as a Python editor would be: the tests' Yjs peer.

It speaks the protocol as the stock JS client does: step 1 on connect, step 2 in reply to the
server's step 1, updates for local edits, awareness; and it records auth messages and closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from typing import Any

import websockets
from pycrdt import Awareness, Doc, Text, XmlFragment
from websockets.asyncio.client import ClientConnection

from tests.support.waiting import WAIT
from twinspace_rt.documents import codec
from twinspace_rt.documents.codec import MessageType, YSyncMessageType


class YjsClient:
    def __init__(self, socket: ClientConnection, doc: Doc | None = None) -> None:
        self.socket = socket
        self.doc: Doc = doc or Doc()
        self.awareness = Awareness(self.doc)
        self.denials: list[str] = []
        self.synced = asyncio.Event()
        self.frames: list[bytes] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self._changed = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls,
        base_url: str,
        project_id: int,
        name: str,
        token: str | None,
        doc: Doc | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> YjsClient:
        """`base_url` is http(s) or ws(s); `tls` trusts a proxy's own CA."""
        url = base_url.replace("http", "ws", 1) if base_url.startswith("http") else base_url
        url += f"/yjs/{project_id}/{name}"
        if token is not None:
            url += f"?token={token}"
        socket = await websockets.connect(url, max_size=2**24, ssl=tls)
        client = cls(socket, doc)
        with contextlib.suppress(websockets.ConnectionClosed):  # a refusal closes at once
            await client.send(codec.step1(client.doc.get_state()))
        return client

    @property
    def text(self) -> Text:
        return self.doc.get("content", type=Text)

    @property
    def fragment(self) -> XmlFragment:
        return self.doc.get("content", type=XmlFragment)

    async def send(self, frame: bytes) -> None:
        await self.socket.send(frame)

    async def edit(self, change: Callable[[Doc], Any]) -> bytes:
        """Makes a local change and sends it as one update; returns the update."""
        before = self.doc.get_state()
        change(self.doc)
        update = self.doc.get_update(before)
        await self.send(codec.update_message(update))
        return update

    async def type(self, text: str) -> bytes:
        return await self.edit(lambda doc: self.text.insert(len(self.text), text))

    async def set_cursor(self, state: dict[str, Any]) -> None:
        self.awareness.set_local_state(state)
        payload = self.awareness.encode_awareness_update([self.doc.client_id])
        await self.send(codec.awareness_message(payload))

    def others(self) -> dict[int, dict[str, Any]]:
        return {k: v for k, v in self.awareness.states.items() if k != self.doc.client_id}

    async def _read(self) -> None:
        try:
            async for frame in self.socket:
                assert isinstance(frame, bytes)
                self.frames.append(frame)
                message = codec.decode(frame)
                if message.type is MessageType.sync:
                    if message.sync_type is YSyncMessageType.SYNC_STEP1:
                        await self.send(codec.step2(self.doc.get_update(message.payload)))
                    else:
                        self.doc.apply_update(message.payload)
                        if message.sync_type is YSyncMessageType.SYNC_STEP2:
                            self.synced.set()
                elif message.type is MessageType.awareness:
                    self.awareness.apply_awareness_update(message.payload, "server")
                elif message.type is MessageType.auth:
                    self.denials.append(message.payload.decode())
                async with self._changed:
                    self._changed.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.socket.close_code
            self.close_reason = self.socket.close_reason or ""
            async with self._changed:
                self._changed.notify_all()

    async def until(self, check: Callable[[], bool], timeout: float = WAIT) -> None:
        async with asyncio.timeout(timeout), self._changed:
            while not check():
                if self._reader.done():
                    raise AssertionError(f"closed {self.close_code} {self.close_reason}")
                await self._changed.wait()

    async def closed(self, timeout: float = WAIT) -> int | None:
        async with asyncio.timeout(timeout):
            await self._reader
        return self.close_code

    async def close(self) -> None:
        await self.socket.close()
        await self._reader
