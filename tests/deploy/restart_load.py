"""Chat and Yjs clients that keep working through a cluster's rolling restart, as the web client
does: on a close they reconnect through Caddy's one address and resume where they stood.

Each records what the server confirmed (acknowledged chat messages with their seq, words typed
into the shared document, messages a watcher received), so the test can check afterwards that
nothing confirmed was lost or delivered twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import websockets

from tests.support.live import Closed, HubClient
from tests.support.waiting import WAIT
from tests.support.yjs_client import YjsClient

T = TypeVar("T")
GONE = (Closed, websockets.ConnectionClosed, ConnectionError, OSError)
CHAT_PAUSE = 0.25  # under the default 5 requests per second of a connection
TYPE_PAUSE = 0.02


@dataclass
class Load:
    """What the clients saw; `stop` ends every loop."""

    stop: asyncio.Event = field(default_factory=asyncio.Event)
    acked: dict[str, int] = field(default_factory=dict)  # chat key -> acknowledged seq
    watched: list[int] = field(default_factory=list)  # seqs a watcher received, as they came
    typed: list[str] = field(default_factory=list)  # words the writer typed
    relayed: set[str] = field(default_factory=set)  # words the reader received
    closes: Counter[int | None] = field(default_factory=Counter)  # close codes the clients got
    reconnects: int = 0

    def held(self) -> int:
        """The highest seq up to which the watcher holds every message: where it resumes.
        Live pushes stored at the same moment on two nodes may come out of seq order
        (docs/PROTOCOL.md), so this is not simply the last one received."""
        have = set(self.watched)
        top = 0
        while top + 1 in have:
            top += 1
        return top

    def progress(self) -> tuple[int, int]:
        return len(self.acked), len(self.typed)

    async def moved_on(self, messages: int, words: int) -> None:
        """Waits until the clients have done that much more than they had done so far."""
        acked, typed = self.progress()
        async with asyncio.timeout(WAIT):
            while len(self.acked) < acked + messages or len(self.typed) < typed + words:
                await asyncio.sleep(0.05)


@dataclass
class Entry:
    """Where a client connects first (one node's own entry point), then after any close (the
    cluster's one address), over TLS with the cluster's CA."""

    first: str
    then: str
    tls: ssl.SSLContext

    def ws(self, used: bool) -> str:
        return (self.then if used else self.first).replace("https://", "wss://")


async def _close_code(client: HubClient | YjsClient) -> int | None:
    """The close code once the client's reader has seen the end: a send can fail before it
    has (the code would still read None)."""
    return await client.closed()


async def _reaching(connect: Callable[[], Awaitable[T]]) -> T:
    """Connects, trying again while the node behind the entry is restarting (the test's own
    timeout bounds it)."""
    while True:
        try:
            return await connect()
        except GONE:
            await asyncio.sleep(0.2)


async def _hub(entry: Entry, used: bool, project_id: int, token: str) -> HubClient:
    url = f"{entry.ws(used)}/ws/projects/{project_id}?token={token}"
    client = HubClient(await websockets.connect(url, ssl=entry.tls, max_size=2**22))
    await client.wait_for("presence.state")
    return client


async def send_chat(load: Load, entry: Entry, project_id: int, token: str, sender: str) -> None:
    """Numbered messages with idempotency keys: one unacknowledged at a close is sent again
    (same key) after reconnecting, and must come back with the seq it was first stored with."""
    number, used = 0, False
    while not load.stop.is_set():
        client = await _reaching(lambda used=used: _hub(entry, used, project_id, token))
        used = True
        try:
            while not load.stop.is_set():
                key = f"{sender}-{number}"
                ack = await client.ok("chat.send", channel="general", text=key, key=key)
                assert load.acked.setdefault(key, ack["seq"]) == ack["seq"], "a retry moved"
                number += 1
                await asyncio.sleep(CHAT_PAUSE)
            await client.close()
        except GONE:
            load.closes[await _close_code(client)] += 1
            load.reconnects += 1


async def watch_chat(load: Load, entry: Entry, project_id: int, token: str) -> None:
    """Receives the channel live; after a close, resumes from the seq up to which it holds
    every message, as a client must. Ends once the load has stopped and it holds every
    message up to the newest acknowledged one."""
    used = False
    while True:
        client = await _reaching(lambda used=used: _hub(entry, used, project_id, token))
        used = True
        since = load.held()  # 0: from the first message
        seen = 0
        try:
            reply = await client.ok("chat.subscribe", channels={"general": since})
            assert reply["channels"]["general"]["recovered"] is True, reply
            while True:
                seen = _take(load, client, seen)
                if load.stop.is_set() and load.held() >= max(load.acked.values()):
                    await client.close()
                    return
                with contextlib.suppress(TimeoutError):
                    await client.wait_for("chat.message", count=seen + 1, timeout=0.5)
        except GONE:
            _take(load, client, seen)
            load.closes[await _close_code(client)] += 1
            load.reconnects += 1


def _take(load: Load, client: HubClient, seen: int) -> int:
    """Records the messages that arrived since the last look; how many have been looked at."""
    arrived = client.of_type("chat.message")
    load.watched.extend(push["message"]["seq"] for push in arrived[seen:])
    return len(arrived)


def words(text: str) -> list[str]:
    return [word for word in text.split(";") if word]


async def _open(entry: Entry, used: bool, project_id: int, doc: str, token: str) -> YjsClient:
    """A fresh local document each time, as in the soak test: a client that kept its document
    would send the server, on reconnecting, whatever the server had lost, and hide the loss."""
    client = await YjsClient.connect(entry.ws(used), project_id, doc, token, tls=entry.tls)
    async with asyncio.timeout(WAIT):
        await client.synced.wait()
    return client


async def _still(reader: YjsClient) -> bool:
    """Whether a second passes without the document changing."""
    before = str(reader.text)
    with contextlib.suppress(TimeoutError):
        await reader.until(lambda: str(reader.text) != before, timeout=1)
    return str(reader.text) == before


async def type_words(load: Load, entry: Entry, project_id: int, doc: str, token: str) -> None:
    """Types numbered words at the end of the document, reconnecting after a close."""
    used, number = False, 0
    while not load.stop.is_set():
        writer = await _reaching(lambda used=used: _open(entry, used, project_id, doc, token))
        used = True
        try:
            while not load.stop.is_set():
                await writer.type(f"w{number};")
                load.typed.append(f"w{number}")
                number += 1
                await asyncio.sleep(TYPE_PAUSE)
            await writer.close()
        except GONE:
            load.closes[await _close_code(writer)] += 1
            load.reconnects += 1


async def read_words(load: Load, entry: Entry, project_id: int, doc: str, token: str) -> None:
    """Receives the document as relayed, reconnecting after a close; every word it held at a
    close or at the end was relayed. Ends once the load has stopped and the document is still."""
    used = False
    while True:
        reader = await _reaching(lambda used=used: _open(entry, used, project_id, doc, token))
        used = True
        try:
            # Until the load has stopped and a second passed with nothing new.
            while not (await _still(reader) and load.stop.is_set()):
                pass
            load.relayed.update(words(str(reader.text)))
            await reader.close()
            return
        except AssertionError:  # `until` on a closed socket
            load.relayed.update(words(str(reader.text)))
            load.closes[await _close_code(reader)] += 1
            load.reconnects += 1
