"""A mutation fuzzer of the hub's JSON requests, against a real server over real sockets.

Inputs are real hub requests (chat, subscriptions, forums, presence, ``rtc.*``) mutated at the
JSON level (a value swapped for an odd one, a key dropped or added, a type changed, nesting
deepened, lone surrogates) and at the text level (cut, spliced, bytes flipped, invalid UTF-8).
They are sent by sockets of every kind of member of one project. After each batch the fuzzer
checks what must always hold:

- the server is alive: ``/healthz`` answers and every fuzzing socket that is still open
  answers a ``ping`` (so it handled everything sent before it, in order);
- a socket is only ever closed for a reason a client can act on, never 1011;
- a bystander project's chat still delivers a message from one member to another;
- nothing was logged with a traceback.

The suite runs a seeded few thousand inputs (``tests/fuzz/test_hub_json_fuzz.py``); ``make
fuzz-hub`` runs ``python -m tests.fuzz.hub_json`` with 100 000 or more.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import random
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

from tests.support.live import Closed, HubClient, Live, serve
from tests.support.log_capture import recorded
from tests.support.room import Room, make_room
from tests.support.waiting import WAIT
from twinspace_rt.settings import Settings

SDP = (
    "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
    "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n"
    "a=fingerprint:sha-256 " + ":".join(["AB"] * 32) + "\r\na=setup:actpass\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=sendrecv\r\n"
)

# Real requests, as the web client sends them; ``id`` is set per input.
SEEDS: list[dict[str, Any]] = [
    {"type": "ping"},
    {"type": "auth.refresh", "token": "eyJhbGciOiJIUzI1NiJ9.e30.x"},
    {"type": "presence.update", "status": "away", "location": {"kind": "doc", "ref": "story"}},
    {"type": "typing", "channel": "general"},
    {"type": "chat.channels"},
    {"type": "chat.subscribe", "channels": {"general": None, "pupils": 0}},
    {"type": "chat.unsubscribe", "channels": ["general"]},
    {"type": "chat.send", "channel": "general", "text": "Ciao a tutti! 🌍", "key": "k1"},
    {"type": "chat.send", "channel": "pupils", "text": "x", "key": "k2", "reply_to": 1},
    {"type": "chat.send", "channel": "general", "text": "y", "key": "k3", "materials": [1, 2]},
    {"type": "chat.history", "channel": "general", "before": 5, "limit": 20},
    {"type": "chat.edit", "channel": "general", "seq": 1, "text": "edited"},
    {"type": "chat.delete", "channel": "general", "seq": 2},
    {"type": "chat.react", "channel": "general", "seq": 1, "emoji": "👍", "on": True},
    {"type": "chat.read", "channel": "general", "seq": 1},
    {"type": "chat.unread"},
    {"type": "chat.report", "channel": "general", "seq": 1, "reason": "unkind"},
    {"type": "chat.mute", "user_id": 3, "minutes": 1},
    {"type": "forum.subscribe", "streams": {"forum": None, "bulletin": 0}},
    {"type": "forum.unsubscribe", "streams": ["forum", "bulletin"]},
    {"type": "rtc.start", "lobby": False, "max_participants": 6, "publish": "everyone"},
    {"type": "rtc.state"},
    {"type": "rtc.join"},
    {"type": "rtc.signal", "to": 1, "description": {"type": "offer", "sdp": SDP}},
    {
        "type": "rtc.signal",
        "to": 1,
        "candidate": {
            "candidate": "candidate:1 1 udp 2122260223 192.0.2.1 54321 typ host",
            "sdpMid": "0",
            "sdpMLineIndex": 0,
        },
    },
    {"type": "rtc.media", "mic": True, "camera": False, "screen": False},
    {"type": "rtc.hand", "raised": True},
    {"type": "rtc.admit", "participant_id": 2},
    {"type": "rtc.mute", "participant_id": 2, "mic": True, "camera": False},
    {"type": "rtc.lock", "mic": True},
    {"type": "rtc.remove", "participant_id": 2},
    {"type": "rtc.leave"},
    {"type": "rtc.end"},
]
TYPES = sorted({str(s["type"]) for s in SEEDS}) + ["pong", "chat.fly", ""]

# Why a fuzzing socket may be closed: each is a refusal the client is told about.
EXPECTED_CLOSES = {
    1007: "text frame not UTF-8",
    4400: "frame too large or not JSON text",
    4429: "requests past the rate limit",
}
FUZZ_ROLES = ("teacher_admin", "teacher", "pupil_admin", "pupil", "observer")


def _odd_values(rng: random.Random) -> list[Any]:
    return [
        None,
        True,
        False,
        0,
        -1,
        2**31,
        2**63,
        -(2**70),
        1e308,
        0.5,
        "",
        "general",
        "x" * rng.choice((1, 65, 257, 4001, 20001)),
        "\ud800",
        "a\udfff",
        "😀",
        "\u0000\u202e",
        "<script>alert(1)</script>",
        [],
        {},
        [None] * 3,
        {"": None},
        rng.choice(TYPES),
    ]


def _nested(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a request a value can be swapped."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


def _set(root: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = new
    return root


def _mutate_value(rng: random.Random, request: Any) -> Any:
    paths = _paths(request)
    path = rng.choice(paths)
    choice = rng.random()
    if choice < 0.5:
        return _set(request, path, rng.choice(_odd_values(rng)))
    if choice < 0.6:
        return _set(request, path, _nested(rng.choice((3, 15, 17, 40, 300))))
    if choice < 0.75 and isinstance(request, dict) and request:
        request.pop(rng.choice(list(request)), None)
        return request
    if choice < 0.9 and isinstance(request, dict):
        request[rng.choice(("extra", "id", "type", "channel", "text", "__proto__"))] = rng.choice(
            _odd_values(rng)
        )
        return request
    if isinstance(request, dict):
        request["type"] = rng.choice(TYPES)
    return request


def _mutate_text(rng: random.Random, text: str) -> str | bytes:
    choice = rng.random()
    if choice < 0.25:
        return text[: rng.randrange(len(text) + 1)]
    if choice < 0.45:
        at = rng.randrange(len(text) + 1)
        junk = rng.choice(('"', "\\", "{", "]", ",", ":", "\\u", "\\ud83d", "\x00", "é", "NaN"))
        return text[:at] + junk + text[at:]
    if choice < 0.6:
        at = rng.randrange(len(text) + 1)
        return text[:at] + text[rng.randrange(len(text) + 1) :]
    if choice < 0.7:  # deeper than the encoder (and a parser without a depth limit) can go
        depth = rng.choice((20, 1000, 20000))
        return "[" * depth + text + "]" * depth * rng.randint(0, 1)
    if choice < 0.97:
        chars = list(text)
        for _ in range(rng.randint(1, 4)):
            if chars:
                chars[rng.randrange(len(chars))] = chr(rng.choice((0, 34, 92, 123, 125, 0xFFFF)))
        return "".join(chars)
    raw = bytearray(text.encode())
    raw.insert(rng.randrange(len(raw) + 1), rng.choice((0xFF, 0xC0, 0xED)))
    return bytes(raw)


def make_input(rng: random.Random, number: int) -> str | bytes:
    """One fuzz input: a seed request, mutated at the JSON level, the text level, or both."""
    request: Any = copy.deepcopy(rng.choice(SEEDS))
    request["id"] = f"f{number}"
    for _ in range(rng.choice((0, 1, 1, 2, 3))):
        request = _mutate_value(rng, request)
    text = json.dumps(request, ensure_ascii=rng.random() < 0.5)
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:  # a lone surrogate: only its escape can travel
            text = json.dumps(request)
    if rng.random() < 0.35:
        return _mutate_text(rng, text)
    return text


@dataclass
class Report:
    inputs: int = 0
    replies: Counter[str] = field(default_factory=Counter)
    closes: Counter[int] = field(default_factory=Counter)
    seconds: float = 0.0

    def __str__(self) -> str:
        rate = self.inputs / self.seconds if self.seconds else 0
        return (
            f"{self.inputs} inputs in {self.seconds:.1f} s ({rate:.0f}/s); replies "
            f"{dict(self.replies.most_common())}; closes {dict(self.closes)}"
        )


class Fuzzer:
    """The sockets of one project's members, plus a bystander project that must not notice."""

    def __init__(self, live: Live, room: Room, bystanders: Room) -> None:
        self.live = live
        self.room = room
        self.bystanders = bystanders
        self.clients: dict[str, HubClient] = {}
        self.watch: tuple[HubClient, HubClient] | None = None
        self.report = Report()
        self.checks = 0

    async def connect(self, room: Room, role: str) -> HubClient:
        token = room.headers[role]["Authorization"].split()[1]
        client = await HubClient.connect(self.live.url, room.project_id, token)
        await client.wait_for("presence.state")
        return client

    async def start(self) -> None:
        for role in FUZZ_ROLES:
            self.clients[role] = await self.connect(self.room, role)
        speaker = await self.connect(self.bystanders, "teacher")
        listener = await self.connect(self.bystanders, "pupil")
        await listener.ok("chat.subscribe", channels={"general": None})
        self.watch = (speaker, listener)

    async def batch(self, rng: random.Random, size: int) -> None:
        for _ in range(size):
            role = rng.choice(FUZZ_ROLES)
            client = self.clients[role]
            frame = make_input(rng, self.report.inputs)
            self.report.inputs += 1
            if isinstance(frame, bytes):
                # Invalid UTF-8 ends the socket (1007): replaced at once, so that the rest of
                # the batch is not lost on a closed socket.
                await client.socket.send(frame, text=True)
                await self.replace(role, client)
            else:
                try:
                    await client.socket.send(frame)
                except websockets.ConnectionClosed:  # counted when the batch is checked
                    pass
        await self.check()

    def tally(self, client: HubClient) -> None:
        """Counts the replies a socket got to fuzz inputs, and forgets its pushes."""
        for push in client.pushes:
            if push["type"] == "error":
                self.report.replies[push["code"]] += 1
            elif push["type"] == "ack" and str(push.get("id")).startswith("f"):
                self.report.replies["ack"] += 1
        client.pushes.clear()

    async def replace(self, role: str, client: HubClient) -> None:
        code = await client.closed()
        self.tally(client)
        assert code in EXPECTED_CLOSES, f"{role}'s socket closed with {code}"
        self.report.closes[code] += 1
        self.clients[role] = await self.connect(self.room, role)

    async def check(self) -> None:
        """The invariants; a broken one raises AssertionError."""
        self.checks += 1
        for role, client in list(self.clients.items()):
            try:
                reply = await client.request("ping")
            except (Closed, websockets.ConnectionClosed):
                await self.replace(role, client)
            else:
                assert reply["type"] == "ack", f"{role}'s ping: {reply}"
            self.tally(client)
        assert (await self.live.http.get("/healthz")).status_code == 200
        assert self.watch is not None
        speaker, listener = self.watch
        text = f"bystander check {self.checks}"
        await speaker.ok("chat.send", channel="general", text=text, key=f"b{self.checks}")
        await listener.wait_for("chat.message", timeout=WAIT)
        assert listener.of_type("chat.message")[-1]["message"]["text"] == text
        listener.pushes.clear()
        await listener.ok("ping")  # a sign of life, or the idle timeout would end it

    async def stop(self) -> None:
        assert self.watch is not None
        for client in [*self.clients.values(), *self.watch]:
            await client.close()


def fuzz_settings(base: Settings) -> Settings:
    """Limits that a person never meets, so that inputs reach the request handlers."""
    return base.model_copy(
        update={
            "chat_rate_per_second": 100000,
            "chat_rate_burst": 100000,
            "rtc_signal_rate_per_second": 100000,
            "rtc_signal_burst": 100000,
            "ws_read_bytes_per_second": 1 << 30,
            "ws_read_bytes_burst": 1 << 30,
        }
    )


async def run(
    settings: Settings,
    inputs: int,
    seed: int,
    batch: int = 250,
    progress: Callable[[Report], None] | None = None,
) -> Report:
    """Fuzzes a fresh server with ``inputs`` inputs from ``seed``; raises on a broken invariant
    (with the seed and the input count, so a failure can be replayed)."""
    rng = random.Random(seed)
    started = time.monotonic()
    with recorded() as log:
        async with serve(fuzz_settings(settings)) as live:
            room = await make_room(live.http, live.services, "fuzz")
            bystanders = await make_room(live.http, live.services, "bystander")
            fuzzer = Fuzzer(live, room, bystanders)
            await fuzzer.start()
            try:
                while fuzzer.report.inputs < inputs:
                    await fuzzer.batch(rng, min(batch, inputs - fuzzer.report.inputs))
                    tracebacks = log.tracebacks()
                    assert not tracebacks, tracebacks[0]
                    fuzzer.report.seconds = time.monotonic() - started
                    if progress is not None:
                        progress(fuzzer.report)
            except AssertionError as exc:
                raise AssertionError(
                    f"seed {seed}, after input {fuzzer.report.inputs}: {exc}"
                ) from exc
            await fuzzer.stop()
    fuzzer.report.seconds = time.monotonic() - started
    return fuzzer.report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None,
            data_dir=Path(tmp) / "data",
            database_url=args.database_url,
            secret_key="fuzz-secret-key-that-is-long-enough-for-hs256",
            log_level="warning",
        )
        print(f"fuzzing the hub with seed {args.seed}", flush=True)
        report = asyncio.run(
            run(
                settings,
                args.inputs,
                args.seed,
                progress=lambda r: print(r, flush=True) if r.inputs % 10_000 == 0 else None,
            )
        )
    print(f"done: {report}")


if __name__ == "__main__":
    main()
