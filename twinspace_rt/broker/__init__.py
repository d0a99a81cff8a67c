"""Carries hub events between nodes and holds cluster-wide presence; see `base.Broker`."""

from __future__ import annotations

from twinspace_rt.broker.base import GAP, Broker, BrokerUnavailable, Handler, Subscription
from twinspace_rt.broker.memory import MemoryBroker
from twinspace_rt.broker.redis import RedisBroker

__all__ = [
    "GAP",
    "Broker",
    "BrokerUnavailable",
    "Handler",
    "MemoryBroker",
    "RedisBroker",
    "Subscription",
    "create_broker",
]


def create_broker(redis_url: str | None, prefix: str = "twinspace") -> Broker:
    """In-process without a Redis URL (one node), Redis with one (a cluster)."""
    if redis_url:
        return RedisBroker(redis_url, prefix=prefix)
    return MemoryBroker()
