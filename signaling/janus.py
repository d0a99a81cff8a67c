"""A client of Janus's JSON API over its Unix-socket transport (``pfunix``, ``SOCK_SEQPACKET``).

Why a Unix socket: the API is then reachable only by processes that may open the socket's file,
never from a network, and it crosses network namespaces (the tests run Janus in its own). Every
request carries the API secret. One packet is one JSON message both ways.

Janus's rules this client follows: a request's reply carries its ``transaction``; a plugin
request that Janus handles asynchronously (join, configure, start) is first acknowledged with
``ack`` and answered later by an ``event`` carrying the same transaction (with the JSEP, if
any); a session dies after its timeout (60 s by default) unless a ``keepalive`` arrives, so a
task sends one every ``keepalive_seconds``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import socket
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

VIDEOROOM = "janus.plugin.videoroom"
# Janus sends a whole message in one packet; SDPs are a few kilobytes, events smaller.
MAX_PACKET = 1 << 20
# What Janus 1.1.2's Unix-socket transport reads of one message: a longer one is dropped with
# nothing but a line in Janus's log ("truncated"), and its request would wait for ever. A
# browser's offer with its candidates (several interfaces, TURN over UDP and TCP) passes it,
# so descriptions go without their candidates, which follow in `trickle` messages.
MESSAGE_MAX = 8191
# The candidates of one `trickle` message, in bytes of JSON: the envelope and secret fit beside.
TRICKLE_BATCH = 6000
# How long the tests' and tools' own connections wait for an answer; a node's come from its
# settings (`rtc_janus_reply_seconds`).
REPLY_SECONDS = 10.0


class JanusError(Exception):
    """Janus refused a request (``code`` from Janus or the VideoRoom plugin) or is unreachable
    (``code`` 0)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"Janus error {code}: {reason}")
        self.code = code
        self.reason = reason


class JanusConnection:
    """One connection to the API; replies are matched to requests by transaction."""

    def __init__(self, sock: socket.socket, api_secret: str | None, reply_seconds: float) -> None:
        self._sock = sock
        self._api_secret = api_secret
        # A Janus that stops answering (hung, or stopped) must not hold a request for ever.
        self._reply_seconds = reply_seconds
        self._pending: dict[str, tuple[asyncio.Future[dict[str, Any]], bool]] = {}
        # Events nobody asked for (webrtcup, hangup, ...), by the handle they concern.
        self.listeners: dict[int, Callable[[dict[str, Any]], None]] = {}
        # Called once if Janus goes away (not when this side closes the connection).
        self.on_lost: Callable[[], None] | None = None
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(
        cls, path: str, api_secret: str | None, reply_seconds: float = REPLY_SECONDS
    ) -> JanusConnection:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        sock.setblocking(False)
        try:
            await asyncio.get_running_loop().sock_connect(sock, path)
        except OSError as exc:
            sock.close()
            raise JanusError(0, f"cannot reach Janus at {path}: {exc.strerror}") from exc
        return cls(sock, api_secret, reply_seconds)

    @property
    def closed(self) -> bool:
        return self._reader.done()

    async def request(
        self, message: dict[str, Any], *, final_event: bool = False
    ) -> dict[str, Any]:
        """Sends one request; returns its reply (for ``final_event``, the reply after ``ack``)."""
        if self.closed:
            raise JanusError(0, "the connection to Janus is closed")
        transaction = secrets.token_hex(8)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[transaction] = (future, final_event)
        message = {**message, "transaction": transaction}
        if self._api_secret is not None:
            message["apisecret"] = self._api_secret
        data = json.dumps(message).encode()
        if len(data) > MESSAGE_MAX:
            raise JanusError(0, f"a message of {len(data)} bytes is more than Janus reads")
        try:
            await asyncio.get_running_loop().sock_sendall(self._sock, data)
            async with asyncio.timeout(self._reply_seconds):
                reply = await future
        except TimeoutError as exc:
            log.warning("Janus did not answer within %g s", self._reply_seconds)
            raise JanusError(0, f"no answer within {self._reply_seconds:g} s") from exc
        finally:
            self._pending.pop(transaction, None)
        if reply.get("janus") == "error":
            error = reply.get("error", {})
            raise JanusError(int(error.get("code", 0)), str(error.get("reason", "unknown")))
        return reply

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                packet = await loop.sock_recv(self._sock, MAX_PACKET)
                if not packet:
                    self._lost()
                    return
                self._dispatch(json.loads(packet))
        except (OSError, ValueError) as exc:
            log.warning("the connection to Janus failed: %s", exc)
            self._lost()
        finally:
            for future, _ in self._pending.values():
                if not future.done():
                    future.set_exception(JanusError(0, "the connection to Janus was lost"))
            self._sock.close()

    def _lost(self) -> None:
        if self.on_lost is not None:
            self.on_lost()

    def _dispatch(self, message: dict[str, Any]) -> None:
        waiting = self._pending.get(str(message.get("transaction")))
        if waiting is None:
            listener = self.listeners.get(int(message.get("sender", 0)))
            if listener is not None:
                listener(message)
            return
        future, final_event = waiting
        if final_event and message.get("janus") == "ack":
            return
        if not future.done():
            future.set_result(message)

    async def close(self) -> None:
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


class JanusSession:
    """A Janus session and its keepalive; the handles of a node's participants live in it."""

    def __init__(self, connection: JanusConnection, session_id: int, keepalive: float) -> None:
        self.connection = connection
        self.id = session_id
        self._keepalive = asyncio.create_task(self._keep_alive(keepalive))

    @classmethod
    async def create(cls, connection: JanusConnection, keepalive: float) -> JanusSession:
        reply = await connection.request({"janus": "create"})
        return cls(connection, int(reply["data"]["id"]), keepalive)

    @property
    def alive(self) -> bool:
        return not self._keepalive.done() and not self.connection.closed

    async def _keep_alive(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.connection.request({"janus": "keepalive", "session_id": self.id})
            except JanusError as exc:
                if exc.code == 0 and not self.connection.closed:
                    # Unanswered (Janus busy or hung): giving up would let Janus end the
                    # session, and every handle in it, once it answers again.
                    log.warning("Janus session %s: a keepalive went unanswered", self.id)
                    continue
                log.warning("Janus session %s lost: %s", self.id, exc.reason)
                return

    async def attach(self, plugin: str = VIDEOROOM) -> Handle:
        reply = await self.connection.request(
            {"janus": "attach", "session_id": self.id, "plugin": plugin}
        )
        return Handle(self, int(reply["data"]["id"]))

    async def destroy(self) -> None:
        self._keepalive.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._keepalive
        with contextlib.suppress(JanusError):
            await self.connection.request({"janus": "destroy", "session_id": self.id})


class Handle:
    """A handle on the VideoRoom plugin: one publisher, one subscriber, or the rooms' manager."""

    def __init__(self, session: JanusSession, handle_id: int) -> None:
        self.session = session
        self.id = handle_id
        # Set once Janus's PeerConnection with the peer is up (``webrtcup``), cleared on hangup.
        self.up = asyncio.Event()
        # The plugin's own events nobody asked for (``talking``, ``kicked``...): their data.
        self.on_plugin_event: Callable[[dict[str, Any]], None] | None = None
        # Called when Janus hangs up a PeerConnection that was up (the peer went away).
        self.on_hangup: Callable[[], None] | None = None
        session.connection.listeners[handle_id] = self._on_event

    def _on_event(self, message: dict[str, Any]) -> None:
        kind = message.get("janus")
        if kind == "webrtcup":
            self.up.set()
        elif kind in ("hangup", "detached"):
            was_up = self.up.is_set()
            self.up.clear()
            if kind == "hangup" and was_up and self.on_hangup is not None:
                self.on_hangup()
        elif kind == "event" and self.on_plugin_event is not None:
            data = message.get("plugindata", {}).get("data")
            if isinstance(data, dict):
                self.on_plugin_event(data)

    def _envelope(self, kind: str) -> dict[str, Any]:
        return {"janus": kind, "session_id": self.session.id, "handle_id": self.id}

    async def message(
        self, body: dict[str, Any], jsep: dict[str, str] | None = None, *, wait_event: bool = False
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The plugin's answer (``plugindata.data``) and JSEP; a plugin refusal raises.

        ``wait_event`` for the asynchronous requests (join, configure, start, ...). A JSEP from
        a peer (whose SDP carries all its candidates, as the hub requires) goes without them;
        they follow in `trickle` messages, then the end of candidates."""
        message = {**self._envelope("message"), "body": body}
        candidates: list[dict[str, Any]] = []
        if jsep is not None:
            sdp, candidates = split_candidates(jsep["sdp"])
            message["jsep"] = {**jsep, "sdp": sdp}
        reply = await self.session.connection.request(message, final_event=wait_event)
        data: dict[str, Any] = reply.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise JanusError(int(data["error_code"]), str(data.get("error", "refused")))
        if jsep is not None:
            await self._trickle(candidates)
        return data, reply.get("jsep")

    async def _trickle(self, candidates: list[dict[str, Any]]) -> None:
        async def send(field: str, value: object) -> None:
            await self.session.connection.request({**self._envelope("trickle"), field: value})

        batch: list[dict[str, Any]] = []
        size = 0
        for candidate in candidates:
            length = len(json.dumps(candidate)) + 2
            if batch and size + length > TRICKLE_BATCH:
                await send("candidates", batch)
                batch, size = [], 0
            batch.append(candidate)
            size += length
        if batch:
            await send("candidates", batch)
        await send("candidate", {"completed": True})

    async def detach(self) -> None:
        self.session.connection.listeners.pop(self.id, None)
        with contextlib.suppress(JanusError):
            await self.session.connection.request(self._envelope("detach"))


def split_candidates(sdp: str) -> tuple[str, list[dict[str, Any]]]:
    """The SDP without its ``a=candidate`` and ``a=end-of-candidates`` lines, and those
    candidates as `trickle` takes them (with their m-section's ``mid`` and index)."""
    lines = sdp.splitlines()
    mids: list[str | None] = []
    for line in lines:
        if line.startswith("m="):
            mids.append(None)
        elif line.startswith("a=mid:") and mids:
            mids[-1] = line.removeprefix("a=mid:").strip()
    kept: list[str] = []
    candidates: list[dict[str, Any]] = []
    section = -1
    for line in lines:
        if line.startswith("m="):
            section += 1
        if line.startswith("a=candidate:") and section >= 0:
            candidates.append(
                {"candidate": line[2:], "sdpMid": mids[section], "sdpMLineIndex": section}
            )
        elif not line.startswith("a=end-of-candidates"):
            kept.append(line)
    return "\r\n".join(kept) + "\r\n", candidates
