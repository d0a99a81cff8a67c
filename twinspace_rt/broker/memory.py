"""Delivery on this node: the table of local handlers every broker uses, and the single-node
broker built on it alone (the embedded default, with nothing to connect to).

The table lives beside the broker that is nothing but the table, so a chat message's path from
publish to a room's handler reads in one file."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from twinspace_rt.broker.base import OK, Broker, Handler, ReconnectCallback, Subscription

log = logging.getLogger(__name__)


class HandlerTable:
    """The handlers of this node by topic, and their in-order, isolated invocation.

    `on_change` runs when a topic gains its first handler or loses its last, which is when the
    Redis broker subscribes or unsubscribes the topic's channel.
    """

    def __init__(self, on_change: Callable[[], None] = lambda: None) -> None:
        self._by_topic: dict[str, list[Subscription]] = {}
        self._on_change = on_change

    def add(self, topic: str, handler: Handler) -> Subscription:
        subscription = Subscription(topic, handler, self._remove)
        subscriptions = self._by_topic.setdefault(topic, [])
        subscriptions.append(subscription)
        if len(subscriptions) == 1:
            self._on_change()
        return subscription

    def topics(self) -> set[str]:
        return set(self._by_topic)

    async def deliver(self, topic: str, event: dict[str, Any]) -> None:
        """Awaits each handler in turn; a failing one is logged and the others still run."""
        for subscription in tuple(self._by_topic.get(topic, ())):
            if not subscription.active:
                continue
            try:
                await subscription.handler(event)
            except Exception:  # a handler's bug must not starve the other handlers
                log.exception("broker handler failed on topic %s", topic)

    def _remove(self, subscription: Subscription) -> None:
        subscriptions = self._by_topic[subscription.topic]
        subscriptions.remove(subscription)
        if not subscriptions:
            del self._by_topic[subscription.topic]
            self._on_change()


class MemoryBroker(Broker):
    """Every socket is on this node, so publishing is calling the local handlers.

    Presence lives in a dict with monotonic expiry times and is never unavailable.
    """

    def __init__(self) -> None:
        super().__init__()
        self._handlers = HandlerTable()
        self._presence: dict[str, dict[str, tuple[float, dict[str, Any]]]] = {}

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        await self._handlers.deliver(topic, event)

    def subscribe(self, topic: str, handler: Handler) -> Subscription:
        return self._handlers.add(topic, handler)

    def on_reconnect(self, callback: ReconnectCallback) -> None:
        """Accepted and never called: there is no link to lose."""

    async def presence_put(self, scope: str, key: str, value: dict[str, Any], ttl: float) -> None:
        self._presence.setdefault(scope, {})[key] = (time.monotonic() + ttl, dict(value))

    async def presence_remove(self, scope: str, key: str) -> None:
        entries = self._presence.get(scope, {})
        entries.pop(key, None)
        if not entries:
            self._presence.pop(scope, None)

    async def presence_all(self, scope: str) -> dict[str, dict[str, Any]]:
        now = time.monotonic()
        entries = self._presence.get(scope, {})
        for key in [key for key, (expires_at, _) in entries.items() if expires_at <= now]:
            del entries[key]
        if not entries:
            self._presence.pop(scope, None)
        return {key: dict(value) for key, (_, value) in entries.items()}

    def status(self) -> str:
        return OK
