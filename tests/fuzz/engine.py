"""The mutation fuzzer of issue 12, shared by the suite (`test_fuzz.py`) and `make fuzz`.

Seeds are real stock-client traffic (`seeds.json`, recorded by `record_seeds.py` from the Node
y-websocket client, pycrdt peers and the hub client): sync steps, updates, awareness and hub
requests. Each input is a mutated seed, sent to a real server: whole y-websocket frames and
re-framed payloads over the Yjs socket, updates over REST, JSON requests over the hub socket.
After every batch the fuzzer checks that the server is alive, that a bystander document in
another project still relays and stores, that every stored document loads (nothing stored
fails to apply) and renders in every format, and that nothing was logged as an error or with
a traceback: refused input is refused quietly.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websockets

from tests.support.live import Live
from tests.support.room import Room, make_room
from tests.support.yjs_client import YjsClient
from twinspace_rt.documents import codec, health
from twinspace_rt.settings import Settings

SEEDS = Path(__file__).parent / "seeds.json"
FORMATS = ("text", "markdown", "html", "json")
WAIT = 10.0


def settings_for(data_dir: Path, database_url: str) -> Settings:
    """Limits a fuzzer must not trip over: it sends faster than people."""
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        database_url=database_url,
        secret_key="fuzz-secret-key-that-is-long-enough-for-hs256",
        chat_rate_per_second=100_000,
        chat_rate_burst=100_000,
        docs_rate_per_second=100_000,
        docs_rate_burst=100_000,
        rest_write_rate_per_second=100_000,
        rest_write_burst=100_000,
        ws_read_bytes_per_second=1 << 30,
        ws_read_bytes_burst=1 << 30,
        ws_sockets_per_member=1000,
    )


def load_seeds() -> tuple[list[bytes], list[str]]:
    seeds = json.loads(SEEDS.read_text())
    return [base64.b64decode(f) for f in seeds["yjs"]], list(seeds["hub"])


# ---- mutations -------------------------------------------------------------------------


def mutate_bytes(rng: random.Random, data: bytes, donors: list[bytes]) -> bytes:
    """One to three byte-level edits, as a classic mutation fuzzer makes them."""
    out = bytearray(data)
    for _ in range(rng.randint(1, 3)):
        choice = rng.randrange(9)
        at = rng.randrange(len(out) + 1)
        if choice == 0 and out:
            out[min(at, len(out) - 1)] ^= 1 << rng.randrange(8)
        elif choice == 1 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        elif choice == 2:
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        elif choice == 3 and out:
            del out[at : at + rng.randint(1, 4)]
        elif choice == 4 and out:
            start = rng.randrange(len(out))
            out[at:at] = out[start : start + rng.randint(1, 16)]
        elif choice == 5:
            out[at:at] = rng.choice(
                [b"\xff\xff\xff\xff\x0f", b"\x80" * 9 + b"\x01", b"\x00", b"\x7f"]
            )
        elif choice == 6 and out:
            del out[rng.randrange(len(out)) :]
        elif choice == 7:
            donor = rng.choice(donors)
            start = rng.randrange(len(donor) + 1)
            out[at:at] = donor[start : start + rng.randint(1, 32)]
        elif out:
            for position in rng.sample(range(len(out)), min(3, len(out))):
                out[position] = rng.randrange(256)  # the three flips that found issue 12
    return bytes(out)


def mutate_frame(rng: random.Random, frame: bytes, donors: list[bytes]) -> bytes:
    """Either the whole frame, or its payload re-framed correctly (so it reaches pycrdt)."""
    if rng.random() < 0.3:
        return mutate_bytes(rng, frame, donors)
    try:
        message = codec.decode(frame)
    except codec.Malformed:
        return mutate_bytes(rng, frame, donors)
    if message.type is codec.MessageType.awareness and rng.random() < 0.3:
        return codec.awareness_message(_nasty_awareness(rng, message.payload))
    payload = mutate_bytes(rng, message.payload, donors)
    if message.type is codec.MessageType.awareness:
        return codec.awareness_message(payload)
    if message.type is codec.MessageType.sync and message.sync_type is not None:
        return bytes([0, message.sync_type]) + _var_bytes(payload)
    return mutate_bytes(rng, frame, donors)


_NASTY_STATES = [
    '{"user": "\\ud800", "cursor": {"anchor": "\\udfff"}}',
    '{"user": {"name": 5, "id": "x", "color": null}}',
    '{"a": ' * 3000 + "1" + "}" * 3000,
    "[" * 5000 + "]" * 5000,
    '{"user": {"name": "' + "x" * 3000 + '"}}',
    "null",
    '{"name": "Ms. Sousa"}',
]


def _nasty_awareness(rng: random.Random, payload: bytes) -> bytes:
    """The seed's entries with states a JSON parser or a re-encoder may trip over."""
    try:
        entries = codec.decode_awareness(payload)
    except codec.Malformed:
        return payload
    state = rng.choice(_NASTY_STATES)
    return codec.encode_awareness(
        [codec.AwarenessEntry(e.client_id, e.clock + rng.randint(0, 2), state) for e in entries]
    )


def _var_bytes(data: bytes) -> bytes:
    length, out = len(data), bytearray()
    while length >= 0x80:
        out.append(0x80 | (length & 0x7F))
        length >>= 7
    out.append(length)
    return bytes(out) + data


# Frames nested 5 000 deep and a lone surrogate in a request id both crashed the hub reader
# once (RecursionError, UnicodeEncodeError): the depth and surrogate checks refuse them now.
HUB_DEPTHS = (10, 100, 500, 5000)
_JSON_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    1.5e308,
    "",
    "x" * 5000,
    "\ud800",
    [],
    {},
    [[[[[]]]]],
    {"a": {}},
    "general",
    "chat.send",
    "../../etc",
    "<script>",
    10**40,
]


def mutate_json(rng: random.Random, text: str) -> str:
    """Structure-aware edits of a hub request (wrong types, missing or unknown fields, deep
    nesting), or byte edits of its text."""
    if rng.random() < 0.25:
        raw = mutate_bytes(rng, text.encode(), [text.encode()])
        return raw.decode("utf-8", "replace")
    value = json.loads(text)
    deep = ""
    for _ in range(rng.randint(1, 3)):
        keys = list(value)
        choice = rng.randrange(5)
        if choice == 0 and keys:
            value[rng.choice(keys)] = rng.choice(_JSON_VALUES)
        elif choice == 1 and keys:
            del value[rng.choice(keys)]
        elif choice == 2:
            value[rng.choice(["extra", "id", "type", "__proto__"])] = rng.choice(_JSON_VALUES)
        elif choice == 3 and keys:
            depth = rng.choice(HUB_DEPTHS)
            deep = "[" * depth + "]" * depth  # too deep for Python to build, not to send
            value[rng.choice(keys)] = "__deep__"
        else:
            value["type"] = rng.choice(
                ["chat.send", "rtc.signal", "forum.subscribe", "presence.update", "nope", 7]
            )
    return json.dumps(value).replace('"__deep__"', deep or "null")


# ---- the run -------------------------------------------------------------------------------


class LogWatch(logging.Handler):
    """Every record at ERROR or with a traceback, from any logger, while the fuzzer runs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bad: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR or record.exc_info:
            self.bad.append(self.format(record))


@dataclass
class Stats:
    inputs: int = 0
    batches: int = 0
    refused: int = 0
    closes: dict[int, int] = field(default_factory=dict)


class Fuzzer:
    def __init__(self, live: Live, seed: int) -> None:
        self.live = live
        self.rng = random.Random(seed)
        self.frames, self.hub_requests = load_seeds()
        self.updates = [
            codec.decode(f).payload
            for f in self.frames
            if codec.decode(f).type is codec.MessageType.sync
            and codec.decode(f).sync_type is not codec.YSyncMessageType.SYNC_STEP1
        ]
        self.stats = Stats()
        self.watch = LogWatch()
        self._yjs: dict[str, YjsClient] = {}
        self._hub: Any = None

    async def setup(self) -> None:
        http, services = self.live.http, self.live.services
        self.room = await make_room(http, services, "fz")
        self.docs = {}
        for name, kind in (("fuzz-text", "text"), ("fuzz-rich", "richtext")):
            created = await http.post(
                f"/api/projects/{self.room.project_id}/docs",
                json={"name": name, "title": name, "kind": kind},
                headers=self.room.headers["teacher"],
            )
            self.docs[name] = created.json()["id"]
        self.other = await make_room(http, services, "by")
        created = await http.post(
            f"/api/projects/{self.other.project_id}/docs",
            json={"name": "bystander", "title": "Bystander", "kind": "text"},
            headers=self.other.headers["teacher"],
        )
        self.bystander_id = created.json()["id"]
        self.writer = await self._open(self.other, "pupil", "bystander")
        self.reader = await self._open(self.other, "teacher", "bystander")
        logging.getLogger().addHandler(self.watch)

    async def close(self) -> None:
        logging.getLogger().removeHandler(self.watch)
        for client in [*self._yjs.values(), self.writer, self.reader]:
            await client.close()
        if self._hub is not None:
            await self._hub.close()

    async def run(
        self, inputs: int, batch: int = 100, progress: Callable[[Stats], None] | None = None
    ) -> Stats:
        while self.stats.inputs < inputs:
            for _ in range(min(batch, inputs - self.stats.inputs)):
                await self._one()
                self.stats.inputs += 1
            await self.check()
            self.stats.batches += 1
            if progress is not None:
                progress(self.stats)
        return self.stats

    async def _one(self) -> None:
        lane = self.rng.random()
        if lane < 0.6:
            await self._yjs_input(
                mutate_frame(self.rng, self.rng.choice(self.frames), self.updates)
            )
        elif lane < 0.8:
            await self._rest_input(
                mutate_bytes(self.rng, self.rng.choice(self.updates), self.updates)
            )
        else:
            await self._hub_input(mutate_json(self.rng, self.rng.choice(self.hub_requests)))

    async def _open(self, room: Room, role: str, name: str) -> YjsClient:
        token = room.headers[role]["Authorization"].removeprefix("Bearer ")
        client = await YjsClient.connect(self.live.url, room.project_id, name, token)
        async with asyncio.timeout(WAIT):
            await client.synced.wait()
        return client

    async def _yjs_input(self, frame: bytes) -> None:
        """Sends one frame, then a step 1 whose answer (or a close) says it was handled."""
        name = self.rng.choice(list(self.docs))
        client = self._yjs.get(name)
        if client is None or client.close_code is not None or client._reader.done():
            client = self._yjs[name] = await self._open(self.room, "pupil", name)
        before = len(client.frames)
        try:
            await client.send(frame)
            await client.send(codec.step1(b"\x00"))
            await client.until(
                lambda: any(
                    codec.decode(f).sync_type is codec.YSyncMessageType.SYNC_STEP2
                    for f in client.frames[before:]
                )
            )
        except (AssertionError, websockets.ConnectionClosed):
            await client.closed()
            code = client.close_code or 0
            self.stats.refused += 1
            self.stats.closes[code] = self.stats.closes.get(code, 0) + 1
            assert code in (4400, 4413, 4422, 4429), (
                f"closed {code} ({client.close_reason}) on {frame.hex()[:300]}: {self.watch.bad[-1:]}"
            )

    async def _rest_input(self, update: bytes) -> None:
        doc_id = self.docs[self.rng.choice(list(self.docs))]
        posted = await self.live.http.post(
            f"/api/projects/{self.room.project_id}/docs/{doc_id}/update",
            content=update,
            headers=self.room.headers["pupil"],
        )
        assert posted.status_code in (200, 413, 422), posted.text
        if posted.status_code != 200:
            self.stats.refused += 1

    async def _hub_input(self, text: str) -> None:
        from tests.support.live import HubClient

        if self._hub is None or self._hub._reader.done():
            token = self.room.headers["pupil"]["Authorization"].removeprefix("Bearer ")
            self._hub = await HubClient.connect(self.live.url, self.room.project_id, token)
        try:
            await self._hub.socket.send(text)
            await self._hub.request("ping")  # answered after the input: it was handled
        except Exception:
            self.stats.refused += 1
            await self._hub.closed()
            code = self._hub.close_code or 0
            self.stats.closes[code] = self.stats.closes.get(code, 0) + 1
            assert code in (1000, 1009, 4400, 4413, 4429), (
                f"hub closed {code} on {text[:300]!r}: {self.watch.bad[-1:]}"
            )

    async def check(self) -> None:
        live = self.live
        assert (await live.http.get("/healthz")).status_code == 200
        word = f"w{self.stats.batches}x{self.rng.randrange(10**6)}"
        await self.writer.type(word + " ")
        await self.reader.until(lambda: word in str(self.reader.text))
        async with asyncio.timeout(WAIT):
            while word not in await self._content(self.other, self.bystander_id, "text"):
                await asyncio.sleep(0.01)
        for doc_id in self.docs.values():
            for fmt in FORMATS:
                await self._content(self.room, doc_id, fmt)
        affected = await health.scan(live.services.db, repair=False)
        assert not affected, [a.describe() for a in affected]
        assert not self.watch.bad, "\n".join(self.watch.bad[:3])

    async def _content(self, room: Room, doc_id: int, fmt: str) -> str:
        got = await self.live.http.get(
            f"/api/projects/{room.project_id}/docs/{doc_id}/content?format={fmt}",
            headers=room.headers["teacher"],
        )
        assert got.status_code == 200, got.text
        if fmt == "json":
            json.loads(got.text)
        return got.text
