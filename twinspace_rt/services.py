"""The long-lived objects one node holds, built once by the app's lifespan."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

import signaling.handlers
from twinspace_rt import observability
from twinspace_rt.auth.login_throttle import LoginThrottle
from twinspace_rt.auth.tokens import TokenService
from twinspace_rt.auth.write_budget import WriteBudget
from twinspace_rt.broker import Broker, create_broker
from twinspace_rt.documents.rooms import DocRooms
from twinspace_rt.hub.connection import MemberSockets
from twinspace_rt.hub.hub import Hub
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database


@dataclass
class Services:
    settings: Settings
    db: Database
    tokens: TokenService
    throttle: LoginThrottle
    metrics: CollectorRegistry
    broker: Broker
    hub: Hub
    documents: DocRooms
    # What one member may cost this node: REST writes and open sockets (issue 13).
    writes: WriteBudget
    sockets: MemberSockets

    @classmethod
    def build(cls, settings: Settings) -> Services:
        db = Database(settings.effective_database_url)
        tokens = TokenService(settings)
        broker = create_broker(settings.redis_url, settings.redis_prefix)
        hub = Hub(settings, db, tokens, broker)
        hub.leave_hooks.append(signaling.handlers.dropped)
        metrics = CollectorRegistry()
        observability.register(metrics, broker)
        return cls(
            settings=settings,
            db=db,
            tokens=tokens,
            throttle=LoginThrottle(settings.login_max_failures, settings.login_window_seconds),
            metrics=metrics,
            broker=broker,
            hub=hub,
            documents=DocRooms(settings, db, broker),
            writes=WriteBudget(settings.rest_write_rate_per_second, settings.rest_write_burst),
            sockets=MemberSockets(settings.ws_sockets_per_member),
        )
