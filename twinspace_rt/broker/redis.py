"""The multi-node broker: Redis pub/sub carries events, a hash and a sorted set hold presence.

Redis speeds delivery up but is not the record: while it is down, local delivery goes on, the
remote sends are dropped, and the `on_reconnect` callbacks let the hub catch up from the
database once the link is back.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import redis.asyncio
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from twinspace_rt.broker.base import (
    GAP,
    OK,
    Broker,
    BrokerUnavailable,
    Handler,
    ReconnectCallback,
    Subscription,
)
from twinspace_rt.broker.memory import HandlerTable

log = logging.getLogger(__name__)

UNREACHABLE = "redis unreachable"
UNREACHABLE_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
FIRST_BACKOFF = 0.05

# Both scripts use the clock of Redis, so every node agrees on when an entry expires.
# KEYS: the scope's hash (key -> JSON) and sorted set (key -> expiry); ARGV: key, JSON, ttl.
# The two keys themselves expire a second after their last entry, so idle scopes vanish.
PRESENCE_PUT = """
local now = redis.call('TIME')
local expires = tonumber(now[1]) + tonumber(now[2]) / 1000000 + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], expires, ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
local keep = math.ceil(tonumber(last[2]) * 1000) + 1000
redis.call('PEXPIREAT', KEYS[1], keep)
redis.call('PEXPIREAT', KEYS[2], keep)
"""

# Deletes the expired entries, then returns the rest as a flat key, JSON, key, JSON... list.
PRESENCE_ALL = """
local now = redis.call('TIME')
local cutoff = tonumber(now[1]) + tonumber(now[2]) / 1000000
for _, key in ipairs(redis.call('ZRANGE', KEYS[2], '-inf', cutoff, 'BYSCORE')) do
  redis.call('HDEL', KEYS[1], key)
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', cutoff)
return redis.call('HGETALL', KEYS[1])
"""


class RedisBroker(Broker):
    """One node of a cluster sharing one Redis.

    Publishing calls the local handlers directly, then sends the event to Redis wrapped with
    this node's id; every node's subscriber skips its own events, so nobody gets one twice.

    The subscriber is one connection with one reading task, so events reach the handlers in
    the order Redis received them. A second task follows the local topics with SUBSCRIBE and
    UNSUBSCRIBE and sends a PING every `ping_interval`; a PING left unanswered for that long
    counts as a lost link (so does a handler blocking the reader that long). A lost link is
    retried with jittered backoff capped at `max_backoff`; once back, every topic is subscribed
    again, `status` is "ok" again, and the `on_reconnect` callbacks are awaited before live
    events resume.

    Presence operations raise `BrokerUnavailable` whenever `status` is not "ok".
    """

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "twinspace",
        timeout: float = 2.0,
        ping_interval: float = 5.0,
        max_backoff: float = 2.0,
    ) -> None:
        super().__init__()
        self._prefix = prefix
        self._timeout = timeout
        self._ping_interval = ping_interval
        self._max_backoff = max_backoff
        # No retries inside redis-py: a failed command fails at once and this class recovers.
        self._client = redis.asyncio.Redis.from_url(
            url,
            decode_responses=True,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=timeout,
            socket_timeout=timeout,
        )
        # The subscriber waits for events indefinitely, its liveness comes from the PINGs; in
        # RESP2, published messages are ordinary replies rather than RESP3 push callbacks.
        self._subscriber_pool = redis.asyncio.ConnectionPool.from_url(
            url,
            protocol=2,
            decode_responses=True,
            retry=Retry(NoBackoff(), 0),
            socket_connect_timeout=timeout,
            socket_timeout=None,
        )
        self._put_script = self._client.register_script(PRESENCE_PUT)
        self._all_script = self._client.register_script(PRESENCE_ALL)
        self._topics_changed = asyncio.Event()
        self._handlers = HandlerTable(on_change=self._topics_changed.set)
        self._reconnect_callbacks: list[ReconnectCallback] = []
        self._unsent: set[str] = set()
        self._status = "not started"
        self._link: asyncio.Task[None] | None = None
        self._first_attempt_done = asyncio.Event()
        self._last_reply = 0.0

    async def start(self) -> None:
        """Returns once the first connection attempt succeeded or failed; never raises."""
        if self._link is not None or self._status == "closed":
            return
        self._status = "connecting to redis"
        self._link = asyncio.create_task(self._keep_linked(), name=f"broker {self.node_id}")
        await self._first_attempt_done.wait()

    async def close(self) -> None:
        if self._status == "closed":
            return
        self._status = "closed"
        self._first_attempt_done.set()
        if self._link is not None:
            self._link.cancel()
            # A link stuck in a driver call that does not give way to its cancellation must not
            # hold the node's shutdown (a rolling restart) for ever.
            done, _ = await asyncio.wait([self._link], timeout=self._timeout)
            if not done:
                log.warning("broker: the Redis link did not stop in %s s", self._timeout)
            self._link = None
        await self._client.aclose()

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        message = _envelope(self.node_id, event)
        await self._handlers.deliver(topic, event)
        if self._status != OK:
            self._unsent.add(topic)  # the other nodes hear of the gap once the link is back
            return
        try:
            if topic in self._unsent:
                await self._announce_gap(topic)
            await self._client.publish(self._channel(topic), message)
        except UNREACHABLE_ERRORS as exc:
            self._unsent.add(topic)
            log.warning("broker: event on %s not sent to other nodes: %s", topic, exc)

    async def _announce_gap(self, topic: str) -> None:
        gap = _envelope(self.node_id, GAP)
        await self._client.publish(self._channel(topic), gap)
        self._unsent.discard(topic)

    async def _announce_gaps(self) -> None:
        for topic in sorted(self._unsent):
            try:
                await self._announce_gap(topic)
            except UNREACHABLE_ERRORS as exc:
                log.warning("broker: gap on %s not announced yet: %s", topic, exc)
                return

    def subscribe(self, topic: str, handler: Handler) -> Subscription:
        """Takes effect on Redis a moment later, once the link task has sent SUBSCRIBE."""
        return self._handlers.add(topic, handler)

    def on_reconnect(self, callback: ReconnectCallback) -> None:
        self._reconnect_callbacks.append(callback)

    async def presence_put(self, scope: str, key: str, value: dict[str, Any], ttl: float) -> None:
        with self._reachable():
            await self._put_script(
                keys=self._presence_keys(scope), args=[key, json.dumps(value), ttl]
            )

    async def presence_remove(self, scope: str, key: str) -> None:
        entries, expiries = self._presence_keys(scope)
        with self._reachable():
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hdel(entries, key)
                pipe.zrem(expiries, key)
                await pipe.execute()

    async def presence_all(self, scope: str) -> dict[str, dict[str, Any]]:
        with self._reachable():
            flat = await self._all_script(keys=self._presence_keys(scope))
        return dict(zip(flat[::2], map(json.loads, flat[1::2]), strict=True))

    def status(self) -> str:
        return self._status

    def _channel(self, topic: str) -> str:
        return f"{self._prefix}:{topic}"

    def _presence_keys(self, scope: str) -> list[str]:
        return [f"{self._prefix}:presence:{scope}", f"{self._prefix}:presence-expiry:{scope}"]

    @contextmanager
    def _reachable(self) -> Iterator[None]:
        if self._status != OK:
            raise BrokerUnavailable(self._status)
        try:
            yield
        except UNREACHABLE_ERRORS as exc:
            raise BrokerUnavailable(UNREACHABLE) from exc

    async def _keep_linked(self) -> None:
        """Connects, serves until the link breaks, pauses, and connects again, until closed."""
        failures = 0
        while True:
            connection = self._subscriber_pool.make_connection()  # type: ignore[no-untyped-call]
            try:
                await self._serve(connection, recovering=failures > 0)
            except Exception as exc:  # any failure of the link means the same: reconnect
                failures = 1 if self._status == OK else failures + 1
                self._link_down(exc)
            finally:
                await connection.disconnect(nowait=True)
            backoff = min(self._max_backoff, FIRST_BACKOFF * 2 ** min(failures, 10))
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))

    async def _serve(self, connection: AbstractConnection, recovering: bool) -> None:
        """Subscribes every topic, waits for Redis to confirm, then reads until the link breaks."""
        topics = self._handlers.topics()
        async with asyncio.timeout(self._timeout):
            await connection.connect()  # type: ignore[no-untyped-call]
            if topics:
                await self._send(connection, "SUBSCRIBE", topics)
            await connection.send_command("PING", check_health=False)
            while not await self._receive(await connection.read_response()):
                pass
        # Pooled command connections from before an outage are dead; start afresh.
        await self._client.connection_pool.disconnect()
        self._link_up()
        if recovering:
            await self._call_reconnect_callbacks()
        await self._announce_gaps()
        reader = asyncio.create_task(self._read(connection))
        writer = asyncio.create_task(self._write(connection, topics))
        try:
            done, _ = await asyncio.wait((reader, writer), return_when=asyncio.FIRST_COMPLETED)
            done.pop().result()  # both loop until they fail, so this raises why
        finally:
            reader.cancel()
            writer.cancel()
            await asyncio.wait((reader, writer))

    async def _read(self, connection: AbstractConnection) -> NoReturn:
        while True:
            await self._receive(await connection.read_response())

    async def _write(self, connection: AbstractConnection, subscribed: set[str]) -> NoReturn:
        """Follows the local topics on Redis and proves the link alive with PINGs."""
        loop = asyncio.get_running_loop()
        pinged_at: float | None = None
        next_ping = loop.time() + self._ping_interval
        while True:
            self._topics_changed.clear()
            wanted = self._handlers.topics()
            if wanted - subscribed:
                await self._send(connection, "SUBSCRIBE", wanted - subscribed)
            if subscribed - wanted:
                await self._send(connection, "UNSUBSCRIBE", subscribed - wanted)
            subscribed = wanted
            if await self._topics_change_before(next_ping):
                continue
            if pinged_at is not None and self._last_reply < pinged_at:
                raise RedisTimeoutError(f"no reply from redis within {self._ping_interval} s")
            pinged_at = loop.time()
            next_ping = pinged_at + self._ping_interval
            await connection.send_command("PING", check_health=False)

    async def _topics_change_before(self, deadline: float) -> bool:
        try:
            async with asyncio.timeout_at(deadline):
                await self._topics_changed.wait()
        except TimeoutError:
            return False
        return True

    async def _send(self, connection: AbstractConnection, command: str, topics: set[str]) -> None:
        channels = [self._channel(topic) for topic in sorted(topics)]
        await connection.send_command(command, *channels, check_health=False)

    async def _receive(self, reply: Any) -> bool:
        """Dispatches a published event; returns whether the reply answered a PING."""
        self._last_reply = asyncio.get_running_loop().time()
        if isinstance(reply, list) and reply[0] == "message":
            await self._dispatch(reply[1], reply[2])
        return reply == "PONG" or (isinstance(reply, list) and reply[0] == "pong")

    async def _dispatch(self, channel: str, data: str) -> None:
        try:
            envelope = json.loads(data)
            origin, event = envelope["origin"], envelope["event"]
            event.update({k: base64.b64decode(v) for k, v in envelope.get("binary", {}).items()})
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("broker: ignored a malformed message on %s", channel)
            return
        if origin != self.node_id:
            await self._handlers.deliver(channel.removeprefix(f"{self._prefix}:"), event)

    async def _call_reconnect_callbacks(self) -> None:
        for callback in self._reconnect_callbacks:
            try:
                await callback()
            except Exception:  # one caller's catch-up failing must not block the others
                log.exception("broker: on_reconnect callback failed")

    def _link_up(self) -> None:
        if self._status != OK:
            log.info("broker: redis link up")
        self._status = OK
        self._first_attempt_done.set()

    def _link_down(self, error: Exception) -> None:
        if not isinstance(error, UNREACHABLE_ERRORS):
            log.exception("broker: redis link failed unexpectedly")
        elif self._status != UNREACHABLE:
            log.warning("broker: redis unreachable: %s", error)
        self._status = UNREACHABLE
        self._first_attempt_done.set()


def _envelope(origin: str, event: dict[str, Any]) -> str:
    """An event on the wire between nodes. In memory an event's top-level values may be bytes
    (a document update), which JSON carries as base64 under ``binary``; the in-process broker
    never pays for that round trip."""
    plain = {k: v for k, v in event.items() if not isinstance(v, bytes)}
    binary = {k: base64.b64encode(v).decode() for k, v in event.items() if isinstance(v, bytes)}
    return json.dumps({"origin": origin, "event": plain, "binary": binary})
