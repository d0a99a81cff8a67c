"""The single-node broker: the embedded default, with nothing to connect to."""

from __future__ import annotations

import time
from typing import Any

from twinspace_rt.broker.base import (
    OK,
    Broker,
    Handler,
    HandlerTable,
    ReconnectCallback,
    Subscription,
)


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
