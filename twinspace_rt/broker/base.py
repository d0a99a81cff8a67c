"""What every broker offers the hub.

A broker carries events between nodes and holds cluster-wide presence. Local handlers are
always called in-process, so a node keeps serving its own sockets when the backplane is down.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

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
