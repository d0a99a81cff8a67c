"""The load generator: worker processes holding many WebSocket clients on one event loop.

Every server is driven by the same client library (``websockets`` on uvloop) through a
small ``Dialect`` per server, so the generator costs the same whatever it measures. A chat
message carries ``sender:number:time_ns``; wall-clock nanoseconds are comparable between the
sender's and the receiver's processes, so latency = receive time - send time.

A worker talks to the coordinator over a pipe: it connects its clients and reports ``ready``,
then obeys ``start`` (chat) or ``count``/``stop`` (idle) and reports its figures.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from array import array
from collections import Counter
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any, Protocol

import uvloop
import websockets
from servers import HOST, Seat, raise_fd_limit
from websockets.asyncio.client import ClientConnection

CONNECT_CONCURRENCY = 64
CONNECT_TIMEOUT = 30.0
CLOSE_TIMEOUT = 5.0


@dataclass(frozen=True)
class Target:
    kind: str
    port: int
    deflate: bool


@dataclass(frozen=True)
class Frame:
    """What a received frame means to the bench: a chat payload, a keepalive reply, an error."""

    payload: str | None = None
    reply: str | None = None
    error: bool = False


NOTHING = Frame()


class Dialect(Protocol):
    def url(self, port: int, seat: Seat) -> str: ...

    async def join(self, socket: ClientConnection, seat: Seat) -> None: ...

    def chat(self, seat: Seat, number: int, payload: str) -> str: ...

    def read(self, text: str) -> Frame: ...


async def _until(socket: ClientConnection, wanted: Any) -> str:
    """Reads frames until one satisfies ``wanted``; join-time chatter is skipped."""
    while True:
        text = str(await socket.recv())
        if wanted(text):
            return text


class TwinSpace:
    """The hub protocol: token in the URL, subscribe to #general, ``chat.send`` (stored)."""

    PONG = json.dumps({"type": "pong"})

    def url(self, port: int, seat: Seat) -> str:
        return f"ws://{HOST}:{port}/ws/projects/{seat.project_id}?token={seat.token}"

    async def join(self, socket: ClientConnection, seat: Seat) -> None:
        await _until(socket, lambda t: json.loads(t)["type"] == "presence.state")
        request = {"type": "chat.subscribe", "id": "join", "channels": {"general": None}}
        await socket.send(json.dumps(request))
        reply = json.loads(await _until(socket, lambda t: json.loads(t).get("id") == "join"))
        if reply["type"] != "ack":
            raise RuntimeError(f"subscribe refused: {reply}")

    def chat(self, seat: Seat, number: int, payload: str) -> str:
        key = f"{seat.index}-{number}"
        request = {
            "type": "chat.send",
            "id": key,
            "channel": "general",
            "text": payload,
            "key": key,
        }
        return json.dumps(request)

    def read(self, text: str) -> Frame:
        frame = json.loads(text)
        kind = frame["type"]
        if kind == "chat.message":
            return Frame(payload=frame["message"]["text"])
        if kind == "ping":
            return Frame(reply=self.PONG)
        if kind == "error":
            return Frame(error=True)
        return NOTHING


class SocketIO:
    """Engine.IO 4 / Socket.IO 5 over a raw WebSocket: ``join`` with an ack, then ``chat``."""

    def url(self, port: int, seat: Seat) -> str:
        return f"ws://{HOST}:{port}/socket.io/?EIO=4&transport=websocket"

    async def join(self, socket: ClientConnection, seat: Seat) -> None:
        await _until(socket, lambda t: t.startswith("0"))  # engine.io open
        await socket.send("40")  # connect to the default namespace
        await _until(socket, lambda t: t.startswith("40"))
        await socket.send("420" + json.dumps(["join", f"room-{seat.room}"]))
        await _until(socket, lambda t: t.startswith("430"))  # the join's ack

    def chat(self, seat: Seat, number: int, payload: str) -> str:
        return "42" + json.dumps(["chat", {"room": f"room-{seat.room}", "text": payload}])

    def read(self, text: str) -> Frame:
        if text == "2":  # engine.io ping
            return Frame(reply="3")
        if text.startswith("42"):
            _, data = json.loads(text[2:])
            return Frame(payload=data["text"])
        return NOTHING


class Bare:
    """The floor: the first message names the room, every later one is the payload itself."""

    def url(self, port: int, seat: Seat) -> str:
        return f"ws://{HOST}:{port}/"

    async def join(self, socket: ClientConnection, seat: Seat) -> None:
        await socket.send(f"room-{seat.room}")
        await _until(socket, lambda t: t == "ok")

    def chat(self, seat: Seat, number: int, payload: str) -> str:
        return payload

    def read(self, text: str) -> Frame:
        return Frame(payload=text)


DIALECTS: dict[str, Dialect] = {
    "twinspace": TwinSpace(),
    "socketio": SocketIO(),
    "socketio-node": SocketIO(),
    "websockets": Bare(),
}


@dataclass
class Window:
    """The measured interval in wall-clock nanoseconds; only messages sent inside it count."""

    start_ns: int
    t0_ns: int
    t1_ns: int

    def holds(self, sent_ns: int) -> bool:
        return self.t0_ns <= sent_ns < self.t1_ns


@dataclass
class Tally:
    """One worker's figures for the measured window (latencies in microseconds).

    A worker holds whole rooms, so a message's sender records how many deliveries it expects
    before any of its receivers can see it.
    """

    window: Window | None = None
    sent_total: int = 0
    expected: dict[str, int] = field(default_factory=dict)
    received: Counter[str] = field(default_factory=Counter)
    expected_total: int = 0
    delivered: int = 0
    duplicates: int = 0
    latencies_us: array[int] = field(default_factory=lambda: array("q"))
    send_lag_us: array[int] = field(default_factory=lambda: array("q"))
    errors: int = 0
    dropped: int = 0

    def expect(self, key: str, deliveries: int) -> None:
        self.expected[key] = deliveries
        self.expected_total += deliveries

    def arrived(self, key: str, latency_us: int) -> None:
        self.received[key] += 1
        if self.received[key] <= self.expected.get(key, 0):
            self.delivered += 1
        else:
            self.duplicates += 1
        self.latencies_us.append(latency_us)

    def report(self) -> dict[str, Any]:
        return {
            "sent_total": self.sent_total,
            "sent": len(self.expected),
            "expected": self.expected_total,
            "delivered": self.delivered,
            "duplicates": self.duplicates,
            "latencies_us": self.latencies_us.tobytes(),
            "send_lag_us": self.send_lag_us.tobytes(),
            "errors": self.errors,
            "dropped": self.dropped,
        }


class Client:
    """One connected seat: a reader that answers keepalives and, for chat, tallies arrivals."""

    def __init__(self, seat: Seat, socket: ClientConnection, dialect: Dialect, tally: Tally):
        self.seat = seat
        self.socket = socket
        self.dialect = dialect
        self.tally = tally
        self.stopping = False
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        tally = self.tally
        try:
            async for text in self.socket:
                frame = self.dialect.read(str(text))
                if frame.payload is not None:
                    received_ns = time.time_ns()
                    sender, number, sent = frame.payload.split(":")
                    if tally.window is not None and tally.window.holds(int(sent)):
                        tally.arrived(f"{sender}:{number}", (received_ns - int(sent)) // 1000)
                elif frame.reply is not None:
                    await self.socket.send(frame.reply)
                elif frame.error:
                    tally.errors += 1
        except websockets.ConnectionClosed:
            pass
        if not self.stopping:
            tally.dropped += 1

    async def chat(self, window: Window, period_ns: int, room_size: int) -> None:
        """Sends on a steady schedule with a random phase until the window closes."""
        tally = self.tally
        due = window.start_ns + random.randrange(period_ns)
        number = 0
        while due < window.t1_ns and not self.reader.done():
            await asyncio.sleep(max(0, due - time.time_ns()) / 1e9)
            now = time.time_ns()
            tally.send_lag_us.append((now - due) // 1000)
            payload = f"{self.seat.index}:{number}:{now}"
            if window.holds(now):
                tally.expect(f"{self.seat.index}:{number}", room_size)
            try:
                await self.socket.send(self.dialect.chat(self.seat, number, payload))
            except websockets.ConnectionClosed:
                return  # the reader counts the drop
            tally.sent_total += 1
            number += 1
            due += period_ns

    async def close(self) -> None:
        self.stopping = True
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.socket.close()
                await self.reader
        except TimeoutError:
            self.reader.cancel()


async def connect_all(
    target: Target, seats: list[Seat], tally: Tally
) -> tuple[list[Client], list[str]]:
    """Connects and joins every seat, a bounded number at a time; returns clients and failures."""
    dialect = DIALECTS[target.kind]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one(seat: Seat) -> Client:
        async with gate, asyncio.timeout(CONNECT_TIMEOUT):
            socket = await websockets.connect(
                dialect.url(target.port, seat),
                compression="deflate" if target.deflate else None,
                ping_interval=None,  # like a browser: answer the server's pings, send none
                max_size=2**20,
            )
            try:
                await dialect.join(socket, seat)
            except BaseException:
                await socket.close()
                raise
            return Client(seat, socket, dialect, tally)

    results = await asyncio.gather(*(one(seat) for seat in seats), return_exceptions=True)
    clients = [r for r in results if isinstance(r, Client)]
    failures = [f"{type(r).__name__}: {r}" for r in results if isinstance(r, BaseException)]
    return clients, failures


async def _recv(pipe: Connection) -> Any:
    return await asyncio.get_running_loop().run_in_executor(None, pipe.recv)


async def _chat(target: Target, seats: list[Seat], period: float, pipe: Connection) -> None:
    tally = Tally()
    clients, failures = await connect_all(target, seats, tally)
    pipe.send(("ready", len(clients), failures[:5], len(failures)))
    _, start_ns, t0_ns, t1_ns, drain = await _recv(pipe)
    tally.window = Window(start_ns, t0_ns, t1_ns)
    room_sizes = Counter(seat.room for seat in seats)
    period_ns = int(period * 1e9)
    await asyncio.gather(
        *(c.chat(tally.window, period_ns, room_sizes[c.seat.room]) for c in clients)
    )
    deadline = time.monotonic() + drain
    while tally.delivered < tally.expected_total and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    report = tally.report()
    await asyncio.gather(*(c.close() for c in clients))
    pipe.send(("done", report))


async def _idle(target: Target, seats: list[Seat], pipe: Connection) -> None:
    """Holds connections that only answer keepalives, and counts those still open on request."""
    tally = Tally()
    clients, failures = await connect_all(target, seats, tally)
    pipe.send(("ready", len(clients), failures[:5], len(failures)))
    while (await _recv(pipe))[0] == "count":
        pipe.send(("open", sum(not c.reader.done() for c in clients)))
    await asyncio.gather(*(c.close() for c in clients))
    pipe.send(("done", tally.errors))


def chat_worker(target: Target, seats: list[Seat], period: float, pipe: Connection) -> None:
    """Process entry point: one share of the chatting clients (whole rooms)."""
    raise_fd_limit()
    uvloop.run(_chat(target, seats, period, pipe))


def idle_worker(target: Target, seats: list[Seat], pipe: Connection) -> None:
    """Process entry point: one share of the idle connections."""
    raise_fd_limit()
    uvloop.run(_idle(target, seats, pipe))
