"""The broker on one node (in-process) and across nodes (two RedisBrokers on one Redis).

Waits are bounded polls (`tests.support.waiting`): they only give up after a generous bound, they never
measure.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
import redis.asyncio

from tests.support.redis_server import RedisServer, TcpProxy
from tests.support.services import REDIS_URL, require_shared_redis
from tests.support.waiting import WAIT, eventually
from twinspace_rt.broker import (
    GAP,
    Broker,
    BrokerUnavailable,
    MemoryBroker,
    RedisBroker,
    create_broker,
)


class Recorder:
    """A handler that keeps what it receives."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    async def __call__(self, event: dict[str, Any]) -> None:
        self.events.append(event)


async def linked(source: Broker, target: Broker) -> None:
    """Returns once `target` receives what `source` publishes.

    Redis applies one connection's SUBSCRIBEs in order, so the target's earlier subscriptions
    are live by then too.
    """
    probe = Recorder()
    subscription = target.subscribe(f"probe-{uuid.uuid4().hex}", probe)
    try:
        async with asyncio.timeout(WAIT):
            while not probe.events:
                await source.publish(subscription.topic, {})
                await asyncio.sleep(0.01)
    finally:
        subscription.cancel()


def prefix() -> str:
    return f"test-{uuid.uuid4().hex}"


@asynccontextmanager
async def running(*brokers: Broker) -> AsyncIterator[None]:
    try:
        for broker in brokers:
            await broker.start()
        yield
    finally:
        for broker in brokers:
            await broker.close()


@pytest.fixture(params=["memory", "redis"])
async def nodes(request: pytest.FixtureRequest) -> AsyncIterator[tuple[Broker, Broker]]:
    """Two nodes of one cluster; in-process there is only one node, so both are the same."""
    if request.param == "memory":
        broker = MemoryBroker()
        async with running(broker):
            yield broker, broker
        return
    await require_shared_redis()
    shared = prefix()
    a, b = RedisBroker(REDIS_URL, prefix=shared), RedisBroker(REDIS_URL, prefix=shared)
    async with running(a, b):
        yield a, b


@pytest.fixture
async def private_redis() -> AsyncIterator[RedisServer]:
    server = RedisServer()
    try:
        yield server
    finally:
        await server.kill()


async def test_events_reach_every_node_once_and_in_order(nodes: tuple[Broker, Broker]) -> None:
    a, b = nodes
    on_a, on_b = Recorder(), Recorder()
    a.subscribe("project:1", on_a)
    b.subscribe("project:1", on_b)
    await linked(a, b)
    await linked(b, a)

    for n in range(200):
        await a.publish("project:1", {"n": n})
    await a.publish("project:1", {"n": "end"})
    await eventually(lambda: {"n": "end"} in on_b.events)
    # Published after b saw the end, so any echo of a's own events would reach a before it.
    await b.publish("project:1", {"n": "fence"})
    await eventually(lambda: {"n": "fence"} in on_a.events)

    expected = [{"n": n} for n in range(200)] + [{"n": "end"}, {"n": "fence"}]
    assert on_a.events == expected
    assert on_b.events == expected


async def test_cancelled_handler_receives_nothing_more(nodes: tuple[Broker, Broker]) -> None:
    a, b = nodes
    cancelled, kept = Recorder(), Recorder()
    subscription = b.subscribe("project:1", cancelled)
    b.subscribe("project:1", kept)
    await linked(a, b)
    await a.publish("project:1", {"n": 1})
    await eventually(lambda: len(kept.events) == 1)

    subscription.cancel()
    subscription.cancel()
    await a.publish("project:1", {"n": 2})
    await eventually(lambda: len(kept.events) == 2)

    assert cancelled.events == [{"n": 1}]
    assert kept.events == [{"n": 1}, {"n": 2}]


async def test_topic_works_again_after_its_last_handler_left(
    nodes: tuple[Broker, Broker],
) -> None:
    a, b = nodes
    first = Recorder()
    b.subscribe("project:1", first).cancel()
    second = Recorder()
    b.subscribe("project:1", second)
    await linked(a, b)

    await a.publish("project:1", {"n": 1})
    await eventually(lambda: second.events == [{"n": 1}])
    assert first.events == []


async def test_failing_handler_is_logged_and_isolated(
    nodes: tuple[Broker, Broker], caplog: pytest.LogCaptureFixture
) -> None:
    a, b = nodes

    async def fail(event: dict[str, Any]) -> None:
        raise RuntimeError("handler bug")

    on_a, on_b = Recorder(), Recorder()
    for broker, recorder in ((a, on_a), (b, on_b)):
        broker.subscribe("project:1", fail)
        broker.subscribe("project:1", recorder)
    await linked(a, b)

    for n in range(3):
        await a.publish("project:1", {"n": n})
    await eventually(lambda: len(on_b.events) == 3)

    assert on_a.events == on_b.events == [{"n": n} for n in range(3)]
    assert "handler bug" in caplog.text


async def test_presence_is_shared_and_removable(nodes: tuple[Broker, Broker]) -> None:
    a, b = nodes
    await a.presence_put("project:1", "ana", {"name": "Ana"}, ttl=30)
    await a.presence_put("project:1", "ben", {"name": "Ben"}, ttl=30)
    await b.presence_put("project:2", "ana", {"name": "Ana"}, ttl=30)

    assert await b.presence_all("project:1") == {"ana": {"name": "Ana"}, "ben": {"name": "Ben"}}
    await b.presence_remove("project:1", "ana")
    await b.presence_remove("project:1", "nobody")
    assert await a.presence_all("project:1") == {"ben": {"name": "Ben"}}
    assert await a.presence_all("project:2") == {"ana": {"name": "Ana"}}
    assert await a.presence_all("project:3") == {}


async def test_presence_expires_unless_refreshed(nodes: tuple[Broker, Broker]) -> None:
    a, b = nodes
    await a.presence_put("project:1", "beating", {"typing": False}, ttl=0.5)
    await a.presence_put("project:1", "silent", {}, ttl=0.5)

    async with asyncio.timeout(WAIT):
        while "silent" in await b.presence_all("project:1"):
            await a.presence_put("project:1", "beating", {"typing": True}, ttl=WAIT)
            await asyncio.sleep(0.02)

    # "silent" outlived the first TTL of "beating", so only the refresh kept "beating".
    assert await b.presence_all("project:1") == {"beating": {"typing": True}}


async def test_close_twice(nodes: tuple[Broker, Broker]) -> None:
    a, _ = nodes
    await a.close()
    await a.close()


def test_factory_picks_the_broker_by_url() -> None:
    assert isinstance(create_broker(None), MemoryBroker)
    assert isinstance(create_broker(""), MemoryBroker)
    assert isinstance(create_broker(REDIS_URL, prefix=prefix()), RedisBroker)


async def test_link_recovers_after_redis_restart(private_redis: RedisServer) -> None:
    await private_redis.start()
    shared = prefix()
    a = RedisBroker(private_redis.url, prefix=shared, max_backoff=0.2)
    b = RedisBroker(private_redis.url, prefix=shared, max_backoff=0.2)
    statuses_at_reconnect: dict[str, str] = {}

    def remember(name: str, broker: Broker) -> Callable[[], Any]:
        async def callback() -> None:
            statuses_at_reconnect[name] = broker.status()

        return callback

    a.on_reconnect(remember("a", a))
    b.on_reconnect(remember("b", b))
    on_a, on_b = Recorder(), Recorder()
    a.subscribe("project:1", on_a)
    b.subscribe("project:1", on_b)
    async with running(a, b):
        await linked(a, b)

        await private_redis.kill()
        await eventually(lambda: a.status() != "ok" and b.status() != "ok")
        assert a.status() == "redis unreachable"
        await a.publish("project:1", {"n": "during"})
        assert on_a.events == [{"n": "during"}]
        with pytest.raises(BrokerUnavailable):
            await a.presence_put("project:1", "ana", {}, ttl=30)

        await private_redis.start()
        await eventually(lambda: len(statuses_at_reconnect) == 2)
        assert statuses_at_reconnect == {"a": "ok", "b": "ok"}
        await a.publish("project:1", {"n": "after"})
        # B may also hear that A could not send it "during", if B was back first.
        await eventually(lambda: on_b.events[-1:] == [{"n": "after"}])
        assert all(event in (GAP, {"n": "after"}) for event in on_b.events)
        await a.presence_put("project:1", "ana", {}, ttl=30)
        assert await b.presence_all("project:1") == {"ana": {}}


async def test_a_node_cut_off_alone_announces_its_gap() -> None:
    """B stays linked and so gets no reconnect of its own: only A's announcement tells it.

    The cut closes A's connections, so A notices it without a PING; generous PING and connect
    bounds make a second cut on a busy machine rare, and the test allows for one."""
    await require_shared_redis()
    proxy = TcpProxy(int(REDIS_URL.rsplit(":", 1)[1].split("/")[0]))
    await proxy.start()
    shared = prefix()
    a = RedisBroker(proxy.url, prefix=shared, max_backoff=0.2, timeout=WAIT, ping_interval=WAIT)
    b = RedisBroker(REDIS_URL, prefix=shared)
    on_a, on_b = Recorder(), Recorder()
    a.subscribe("project:7", on_a)
    b.subscribe("project:7", on_b)
    try:
        async with running(a, b):
            await linked(a, b)
            await proxy.cut()
            await eventually(lambda: a.status() != "ok")
            assert b.status() == "ok"
            await a.publish("project:7", {"n": "unsent"})
            await a.publish("project:8", {"n": "unsent elsewhere"})
            assert on_b.events == []
            await proxy.start()
            await eventually(lambda: GAP in on_b.events)
            assert on_b.events[0] == GAP
            # A link cut again by a busy machine announces another gap and drops what was
            # published meanwhile (as it must): the event after the heal is sent until it lands.
            async with asyncio.timeout(WAIT):
                while {"n": "after"} not in on_b.events:
                    await a.publish("project:7", {"n": "after"})
                    await asyncio.sleep(0.05)
            assert all(event in (GAP, {"n": "after"}) for event in on_b.events), on_b.events
    finally:
        await proxy.cut()


async def test_silent_redis_counts_as_lost(private_redis: RedisServer) -> None:
    """Only an unanswered PING can tell a frozen Redis; on a busy machine a slow PONG can also
    cut a link now and then, so the event after the thaw is sent until it arrives."""
    await private_redis.start()
    shared = prefix()
    options: dict[str, Any] = {"prefix": shared, "timeout": 2.0, "ping_interval": 0.5}
    a, b = RedisBroker(private_redis.url, **options), RedisBroker(private_redis.url, **options)
    received = Recorder()
    b.subscribe("project:1", received)
    async with running(a, b):
        await linked(a, b)
        private_redis.freeze()
        await eventually(lambda: a.status() != "ok" and b.status() != "ok")
        await a.publish("project:1", {"n": "unsent"})

        private_redis.freeze(False)
        await eventually(lambda: a.status() == "ok" and b.status() == "ok")
        async with asyncio.timeout(WAIT):
            while {"n": "sent"} not in received.events:
                await a.publish("project:1", {"n": "sent"})
                await asyncio.sleep(0.05)
        assert {"n": "unsent"} not in received.events


async def test_start_with_redis_down_then_up(private_redis: RedisServer) -> None:
    broker = RedisBroker(private_redis.url, prefix=prefix(), max_backoff=0.2)
    reconnected = asyncio.Event()

    async def on_reconnect() -> None:
        reconnected.set()

    broker.on_reconnect(on_reconnect)
    received = Recorder()
    broker.subscribe("project:1", received)
    async with running(broker):
        assert broker.status() == "redis unreachable"
        await broker.publish("project:1", {"n": 1})
        assert received.events == [{"n": 1}]
        with pytest.raises(BrokerUnavailable):
            await broker.presence_all("project:1")

        await private_redis.start()
        async with asyncio.timeout(WAIT):
            await reconnected.wait()
        assert broker.status() == "ok"


async def test_malformed_message_is_skipped() -> None:
    await require_shared_redis()
    shared = prefix()
    a, b = RedisBroker(REDIS_URL, prefix=shared), RedisBroker(REDIS_URL, prefix=shared)
    received = Recorder()
    b.subscribe("project:1", received)
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    async with running(a, b):
        await linked(a, b)
        await client.publish(f"{shared}:project:1", "not json")
        await a.publish("project:1", {"n": 1})
        await eventually(lambda: received.events == [{"n": 1}])
        assert b.status() == "ok"
    await client.aclose()
