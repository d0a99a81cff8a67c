"""The chat load of ``cluster.py``: hub clients spread over several nodes that resume as the web
client does, so a node killed or Redis restarted under load can be checked for loss.

Each client keeps, for ``#general``, the highest ``seq`` up to which it holds every message
(``contig``) and the numbers it holds beyond it. When its socket closes it reconnects to the next
node of the list and subscribes with ``since = contig``: the server replays what it missed. A
``chat.send`` not yet acknowledged is sent again with the same idempotency key after a reconnect,
an error or two seconds, so an acknowledged message is stored exactly once. A worker holds whole
rooms, so it knows every seq acknowledged in a room and can tell which member misses which.

Kept free of TwinSpace RT imports (``load`` and ``servers`` only), like ``load.py``.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from array import array
from collections import Counter, defaultdict
from collections.abc import Coroutine
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any

import uvloop
import websockets
from load import CLOSE_TIMEOUT, CONNECT_CONCURRENCY, CONNECT_TIMEOUT, TwinSpace, Window, _recv
from servers import Seat, raise_fd_limit
from websockets.asyncio.client import ClientConnection

RECONNECT_PAUSE = 0.2
RESEND_AFTER_NS = 2_000_000_000
CHECK_INTERVAL = 0.5
LATE_NS = 1_000_000_000  # a delivery this late was held up by the disturbance
DIALECT = TwinSpace()


@dataclass
class Room:
    """What one room's members share: every seq acknowledged to a sender, and when."""

    acked: dict[int, int] = field(default_factory=dict)  # seq -> time sent (ns)


@dataclass
class Tally:
    """One worker's figures. Latencies are microseconds; arrivals are ms after ``start_ns``."""

    window: Window | None = None
    sent_total: int = 0
    sent_window: int = 0
    delivered_window: int = 0
    duplicate_acks: int = 0
    replayed: int = 0
    late: int = 0
    last_late_ns: int = 0
    duplicates: int = 0
    errors: int = 0
    resyncs: int = 0
    reconnects: int = 0
    latencies_us: array[int] = field(default_factory=lambda: array("q"))
    arrivals_ms: array[int] = field(default_factory=lambda: array("q"))
    outages: list[tuple[int, int]] = field(default_factory=list)  # (closed_ns, resumed_ns)


class Client:
    """One member on one node at a time; ``run`` keeps it connected and subscribed."""

    def __init__(
        self, seat: Seat, ports: list[int], room: Room, tally: Tally, deflate: bool, by_room: bool
    ):
        self.seat = seat
        self.ports = ports
        self.node = (seat.room if by_room else seat.index) % len(ports)
        self.room = room
        self.tally = tally
        self.deflate = deflate
        self.socket: ClientConnection | None = None
        self.contig: int | None = None
        self.ahead: set[int] = set()
        self.pending: dict[str, tuple[str, int, int]] = {}  # key -> (request, sent_ns, resent_ns)
        self.live = asyncio.Event()
        self.stopping = False
        self.closed_ns = 0
        self.down = False  # its node was left at least once and it has not resumed yet
        self.tasks: set[asyncio.Task[None]] = set()  # replies sent from the reader

    def holds(self, seq: int) -> bool:
        return self.contig is not None and (seq <= self.contig or seq in self.ahead)

    def missing(self) -> int:
        return sum(not self.holds(seq) for seq in self.room.acked)

    async def connect(self, deadline: float) -> None:
        """Opens a socket on the current node, or on the next ones, until subscribed."""
        while not self.stopping and time.monotonic() < deadline:
            port = self.ports[self.node]
            url = DIALECT.url(port, self.seat)
            try:
                async with asyncio.timeout(CONNECT_TIMEOUT):
                    socket = await websockets.connect(
                        url,
                        compression="deflate" if self.deflate else None,
                        ping_interval=None,
                        max_size=2**22,
                    )
                    await self.subscribe(socket)
                self.socket = socket
                return
            except (OSError, TimeoutError, websockets.WebSocketException, RuntimeError):
                self.node = (self.node + 1) % len(self.ports)
                await asyncio.sleep(RECONNECT_PAUSE)
        raise TimeoutError(f"seat {self.seat.index} could not connect to any node")

    async def subscribe(self, socket: ClientConnection) -> None:
        """Subscribes from ``contig``; replayed messages before the ack are received as live."""
        while json.loads(await socket.recv())["type"] != "presence.state":
            pass
        request = {"type": "chat.subscribe", "id": "join", "channels": {"general": self.contig}}
        await socket.send(json.dumps(request))
        while True:
            frame = json.loads(await socket.recv())
            if frame.get("id") == "join":
                if frame["type"] != "ack":
                    raise RuntimeError(f"subscribe refused: {frame}")
                state = frame["channels"]["general"]
                if self.contig is None:
                    self.contig = int(state["last_seq"])
                elif not state["recovered"]:
                    raise RuntimeError(f"resume refused: {state}")
                return
            self.handle(frame, socket)

    def handle(self, frame: dict[str, Any], socket: ClientConnection) -> None:
        kind = frame["type"]
        if kind == "chat.message" and frame["change"] in ("created", "replay"):
            self.receive(frame["message"], frame["change"] == "replay")
        elif kind == "ack" and frame["id"] in self.pending:
            _, sent_ns, _ = self.pending.pop(frame["id"])
            self.room.acked.setdefault(int(frame["seq"]), sent_ns)
            self.tally.duplicate_acks += bool(frame.get("duplicate"))
        elif kind == "error":
            self.tally.errors += 1
            if frame.get("id") in self.pending:
                request, sent_ns, _ = self.pending[frame["id"]]
                self.pending[frame["id"]] = (request, sent_ns, 0)  # due again at once
        elif kind == "chat.resync":
            self.tally.resyncs += 1
            self.spawn(self.resubscribe(socket))
        elif kind == "ping":
            self.spawn(self.send(socket, DIALECT.PONG))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Runs a reply beside the reader, holding a reference until it is done."""
        task = asyncio.create_task(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def resubscribe(self, socket: ClientConnection) -> None:
        """After ``chat.resync``: leave the channel and subscribe again from ``contig``."""
        await self.send(
            socket, json.dumps({"type": "chat.unsubscribe", "id": "leave", "channels": ["general"]})
        )
        request = {"type": "chat.subscribe", "id": "again", "channels": {"general": self.contig}}
        await self.send(socket, json.dumps(request))

    @staticmethod
    async def send(socket: ClientConnection, text: str) -> None:
        try:
            await socket.send(text)
        except websockets.ConnectionClosed:
            pass  # the reader reconnects

    def receive(self, message: dict[str, Any], replayed: bool) -> None:
        seq = int(message["seq"])
        tally = self.tally
        if self.holds(seq):
            tally.duplicates += 1
            return
        self.ahead.add(seq)
        assert self.contig is not None
        while self.contig + 1 in self.ahead:
            self.contig += 1
            self.ahead.discard(self.contig)
        now = time.time_ns()
        _, _, sent = message["text"].split(":")
        tally.replayed += replayed
        if now - int(sent) > LATE_NS:
            tally.late += 1
            tally.last_late_ns = max(tally.last_late_ns, now)
        window = tally.window
        if window is not None:
            tally.arrivals_ms.append((now - window.start_ns) // 1_000_000)
            if window.holds(int(sent)):
                tally.delivered_window += 1
                tally.latencies_us.append((now - int(sent)) // 1000)

    async def run(self, deadline: float) -> None:
        """Reads until stopped; a closed socket means: next node, resume from ``contig``."""
        while not self.stopping:
            socket = self.socket
            assert socket is not None
            self.live.set()
            try:
                async for text in socket:
                    self.handle(json.loads(text), socket)
            except websockets.ConnectionClosed:
                pass
            if self.stopping:
                return
            self.live.clear()
            self.closed_ns = time.time_ns()
            self.down = True
            self.tally.reconnects += 1
            self.node = (self.node + 1) % len(self.ports)
            await asyncio.sleep(random.uniform(0, RECONNECT_PAUSE))
            await self.connect(deadline)
            self.tally.outages.append((self.closed_ns, time.time_ns()))
            self.down = False
            for key, (request, sent_ns, _) in list(self.pending.items()):
                self.pending[key] = (request, sent_ns, time.time_ns())
                await self.send(self.socket, request)  # type: ignore[arg-type]

    async def chat(self, window: Window, period_ns: int) -> None:
        """One message per period (random phase); unacknowledged ones are sent again."""
        due = window.start_ns + random.randrange(period_ns)
        number = 0
        while due < window.t1_ns and not self.stopping:
            await asyncio.sleep(max(0, due - time.time_ns()) / 1e9)
            now = time.time_ns()
            # Keys must be new to the database: every window of a run writes to the same rooms,
            # and a key used before is answered with the earlier message, stored nothing.
            key = f"{window.start_ns}-{self.seat.index}-{number}"
            request = json.dumps(
                {
                    "type": "chat.send",
                    "id": key,
                    "channel": "general",
                    "text": f"{self.seat.index}:{number}:{now}",
                    "key": key,
                }
            )
            self.pending[key] = (request, now, now)
            self.tally.sent_total += 1
            self.tally.sent_window += window.holds(now)
            if self.live.is_set() and self.socket is not None:
                await self.send(self.socket, request)
            await self.resend_due()
            number += 1
            due += period_ns

    async def resend_due(self) -> None:
        """Sends again, with the same key, what has waited for its ack over two seconds."""
        now = time.time_ns()
        for key, (text, sent_ns, resent_ns) in list(self.pending.items()):
            if self.live.is_set() and self.socket is not None and now - resent_ns > RESEND_AFTER_NS:
                self.pending[key] = (text, sent_ns, now)
                await self.send(self.socket, text)

    async def close(self) -> None:
        self.stopping = True
        if self.socket is not None:
            try:
                async with asyncio.timeout(CLOSE_TIMEOUT):
                    await self.socket.close()
            except TimeoutError:
                pass


async def _chat(
    ports: list[int],
    seats: list[Seat],
    period: float,
    deflate: bool,
    by_room: bool,
    pipe: Connection,
) -> None:
    tally = Tally()
    rooms: defaultdict[int, Room] = defaultdict(Room)
    clients = [Client(s, ports, rooms[s.room], tally, deflate, by_room) for s in seats]
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def connect(client: Client) -> None:
        async with gate:
            await client.connect(time.monotonic() + CONNECT_TIMEOUT)

    results = await asyncio.gather(*(connect(c) for c in clients), return_exceptions=True)
    failures = [repr(r) for r in results if isinstance(r, BaseException)]
    clients = [c for c, r in zip(clients, results, strict=True) if r is None]
    pipe.send(("ready", len(clients), failures[:5], len(failures)))
    _, start_ns, t0_ns, t1_ns, drain, run_seconds = await _recv(pipe)
    tally.window = Window(start_ns, t0_ns, t1_ns)
    deadline = time.monotonic() + run_seconds
    readers = [asyncio.create_task(c.run(deadline)) for c in clients]
    await asyncio.gather(*(c.chat(tally.window, int(period * 1e9)) for c in clients))
    drain_end = time.monotonic() + drain
    while time.monotonic() < drain_end:
        if not any(c.pending for c in clients) and not any(c.missing() for c in clients):
            break
        for client in clients:
            await client.resend_due()
        await asyncio.sleep(CHECK_INTERVAL)
    await asyncio.gather(*(c.close() for c in clients))
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*readers, return_exceptions=True)
    pipe.send(("done", report(tally, clients, rooms)))


def report(tally: Tally, clients: list[Client], rooms: dict[int, Room]) -> dict[str, Any]:
    window = tally.window
    assert window is not None
    by_project = {c.seat.room: c.seat.project_id for c in clients}
    acked_window = {
        room: sum(window.holds(sent) for sent in r.acked.values()) for room, r in rooms.items()
    }
    members = Counter(c.seat.room for c in clients)
    return {
        "sent_total": tally.sent_total,
        "sent_window": tally.sent_window,
        "acked": sum(len(r.acked) for r in rooms.values()),
        "unacked": sum(len(c.pending) for c in clients),
        "expected_window": sum(acked_window[room] * members[room] for room in acked_window),
        "delivered_window": tally.delivered_window,
        "duplicate_acks": tally.duplicate_acks,
        "replayed": tally.replayed,
        "late": tally.late,
        "last_late_ns": tally.last_late_ns,
        "lost": sum(c.missing() for c in clients),
        "duplicates": tally.duplicates,
        "errors": tally.errors,
        "resyncs": tally.resyncs,
        "reconnects": tally.reconnects,
        "not_back": sum(c.down for c in clients),
        "outages": tally.outages,
        "latencies_us": tally.latencies_us.tobytes(),
        "arrivals_ms": tally.arrivals_ms.tobytes(),
        "acked_seqs": [(by_project[room], seq) for room, r in rooms.items() for seq in r.acked],
    }


def cluster_chat_worker(
    ports: list[int],
    seats: list[Seat],
    period: float,
    deflate: bool,
    by_room: bool,
    pipe: Connection,
) -> None:
    """Process entry point: whole rooms of resuming clients over ``ports``, spread round-robin
    or (``by_room``) each room's clients on one node, as a proxy routing by project would."""
    raise_fd_limit()
    uvloop.run(_chat(ports, seats, period, deflate, by_room, pipe))
