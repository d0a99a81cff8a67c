"""The long-lived objects one node holds, built once by the app's lifespan.

This is where the application is composed: the hub core knows no feature, and each feature
plugs itself in here (`HUB_FEATURES`), the way routes are listed in `app.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CollectorRegistry
from sqlmodel.ext.asyncio.session import AsyncSession

import signaling.handlers
from twinspace_rt import observability
from twinspace_rt.auth.login_throttle import LoginThrottle, ThrottleLimits
from twinspace_rt.auth.policy import Member
from twinspace_rt.auth.tokens import TokenService
from twinspace_rt.auth.write_budget import WriteBudget
from twinspace_rt.broker import Broker, create_broker
from twinspace_rt.broker.base import OK
from twinspace_rt.chat import channels, report_requests
from twinspace_rt.chat import hub_requests as chat_requests
from twinspace_rt.documents.registry import DocumentRegistry
from twinspace_rt.forums import hub_requests as forum_requests
from twinspace_rt.hub import room_requests
from twinspace_rt.hub.hub import Hub
from twinspace_rt.journal import hub_requests as journal_requests
from twinspace_rt.materials import hub_requests as material_requests
from twinspace_rt.materials.service import Materials
from twinspace_rt.pages import hub_requests as page_requests
from twinspace_rt.privacy.jobs import PrivacyJobs
from twinspace_rt.projects import membership
from twinspace_rt.projects.admission import Admissions
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.models import Project, User
from twinspace_rt.ws.member_sockets import MemberSockets


async def found_project(
    tx: AsyncSession, founder: User, name: str, description: str
) -> tuple[Project, Member]:
    """A new project room, with what each feature sets up in one (chat's default channels)."""
    project, member = await membership.create_project(tx, founder, name, description)
    assert project.id is not None
    await channels.create_defaults(tx, project.id, member.user_id)
    return project, member


# Each registers its request types, pushes and hooks with the hub (`hub/features.py`).
HUB_FEATURES: list[Callable[[Hub], None]] = [
    room_requests.register,
    chat_requests.register,
    report_requests.register,
    forum_requests.register,
    page_requests.register,
    journal_requests.register,
    material_requests.register,
    signaling.handlers.register,
]


@dataclass
class Services:
    settings: Settings
    db: Database
    tokens: TokenService
    throttle: LoginThrottle
    metrics: CollectorRegistry
    broker: Broker
    hub: Hub
    documents: DocumentRegistry
    # What one member may cost this node: REST writes and open sockets (issue 13).
    writes: WriteBudget
    sockets: MemberSockets
    # The sockets' handshakes, read in batches (a reconnect storm after a restart).
    admissions: Admissions
    # Erasures, exports and the retention run (issue 19).
    privacy: PrivacyJobs
    # The blob store and the processing workers (issue 15).
    materials: Materials

    @classmethod
    def build(cls, settings: Settings) -> Services:
        db = Database(settings.effective_database_url)
        tokens = TokenService(settings)
        broker = create_broker(settings.redis_url, settings.redis_prefix)
        hub = Hub(settings, db, tokens, broker)
        for register in HUB_FEATURES:
            register(hub)
        materials = Materials(settings, db, hub)
        metrics = CollectorRegistry()
        observability.register(metrics, lambda: broker.status() == OK, broker.on_reconnect)
        return cls(
            settings=settings,
            db=db,
            tokens=tokens,
            throttle=LoginThrottle(
                ThrottleLimits(
                    max_failures=settings.login_max_failures,
                    window=settings.login_window_seconds,
                    first_delay=settings.login_first_delay_seconds,
                    max_delay=settings.login_max_delay_seconds,
                    address_max_failures=settings.login_address_max_failures,
                ),
                settings.redis_url,
                settings.redis_prefix,
            ),
            metrics=metrics,
            broker=broker,
            hub=hub,
            documents=DocumentRegistry(settings, db, broker),
            writes=WriteBudget(settings.rest_write_rate_per_second, settings.rest_write_burst),
            sockets=MemberSockets(settings.ws_sockets_per_member),
            admissions=Admissions(db, tokens),
            privacy=PrivacyJobs(settings, db, broker, materials.store),
            materials=materials,
        )
