"""What every broker offers the hub, and the table of local handlers both brokers share.

A broker carries events between nodes and holds cluster-wide presence. Local handlers are
always called in-process, so a node keeps serving its own sockets when the backplane is down.
"""

from __future__ import annotations

import logging
import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], Awaitable[None]]
ReconnectCallback = Callable[[], Awaitable[None]]

OK = "ok"

# Delivered to a topic's handlers on other nodes when a node could not send them some events
# (its link to Redis was down): they should catch up from the database.
GAP: dict[str, Any] = {"kind": "gap"}


class BrokerUnavailable(Exception):
    """The shared store cannot be reached now; the caller decides whether to retry or degrade."""


class Subscription:
    """One handler on one topic; `cancel` stops delivery to it at once and may be repeated."""

    def __init__(
        self, topic: str, handler: Handler, release: Callable[[Subscription], None]
    ) -> None:
        self.topic = topic
        self.handler = handler
        self.active = True
        self._release = release

    def cancel(self) -> None:
        if self.active:
            self.active = False
            self._release(self)


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


class Broker(ABC):
    """Events to every node's handlers, and presence entries that expire unless refreshed.

    Handlers are awaited one after another (per topic, in the order a publisher published), so
    they should hand work off quickly, e.g. to per-socket send queues, and treat the event as
    read-only: local handlers share the publisher's dict.
    """

    def __init__(self) -> None:
        self.node_id = uuid.uuid4().hex

    @abstractmethod
    async def start(self) -> None:
        """Connects; never raises because the backplane is down, `status` tells instead."""

    @abstractmethod
    async def close(self) -> None:
        """Stops background work and closes connections; calling it again does nothing."""

    @abstractmethod
    async def publish(self, topic: str, event: dict[str, Any]) -> None:
        """Delivers to this node's handlers now and to the other nodes' when reachable.

        Never raises because the backplane is down. The event must be JSON-serialisable.
        """

    @abstractmethod
    def subscribe(self, topic: str, handler: Handler) -> Subscription:
        """Adds a handler for a topic; a topic may have several."""

    @abstractmethod
    def on_reconnect(self, callback: ReconnectCallback) -> None:
        """Registers a callback awaited after the backplane came back, to catch up on losses."""

    @abstractmethod
    async def presence_put(self, scope: str, key: str, value: dict[str, Any], ttl: float) -> None:
        """Sets or refreshes an entry for `ttl` seconds. Raises `BrokerUnavailable`."""

    @abstractmethod
    async def presence_remove(self, scope: str, key: str) -> None:
        """Removes an entry at once. Raises `BrokerUnavailable`."""

    @abstractmethod
    async def presence_all(self, scope: str) -> dict[str, dict[str, Any]]:
        """The unexpired entries of a scope by key. Raises `BrokerUnavailable`."""

    @abstractmethod
    def status(self) -> str:
        """`"ok"`, or a short reason such as `"redis unreachable"` for /readyz."""
