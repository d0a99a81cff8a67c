"""The node's hub: which project rooms have sockets here, and the clock that keeps them honest."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from twinspace_rt.auth.tokens import TokenService
from twinspace_rt.broker.base import Broker, BrokerUnavailable, Subscription
from twinspace_rt.hub import events
from twinspace_rt.hub.connection import Connection
from twinspace_rt.hub.features import HubFeatures
from twinspace_rt.hub.presence import entry
from twinspace_rt.hub.protocol import push
from twinspace_rt.hub.room import ProjectRoom
from twinspace_rt.projects import events as project_events
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database
from twinspace_rt.ws.close_codes import CloseCode
from twinspace_rt.ws.transport import OutFrame

log = logging.getLogger(__name__)


class Hub:
    def __init__(
        self, settings: Settings, db: Database, tokens: TokenService, broker: Broker
    ) -> None:
        self.settings = settings
        self.db = db
        self.tokens = tokens
        # What features registered (`hub/features.py`), and what they keep for the node's life.
        self.features = HubFeatures()
        self.state: dict[str, Any] = {}
        self.broker = broker
        self.rooms: dict[int, ProjectRoom] = {}
        self._subscriptions: dict[int, Subscription] = {}
        self._ticker: asyncio.Task[None] | None = None
        self._later: set[asyncio.Task[None]] = set()
        self._stopped = False

    async def start(self) -> None:
        self.broker.on_reconnect(self._after_broker_outage)
        self._ticker = asyncio.create_task(self._tick())
        for hook in self.features.on_start:
            await hook()

    async def stop(self) -> None:
        self._stopped = True
        if self._ticker is not None:
            self._ticker.cancel()
        for task in list(self._later):
            task.cancel()
        for hook in self.features.on_stop:
            await hook()
        for room in list(self.rooms.values()):
            for conn in list(room.connections.values()):
                conn.close(CloseCode.going_away, "server shutting down: reconnect and resume")

    def later(self, delay: float, work: Callable[[], Awaitable[None]]) -> None:
        """Runs ``work`` after ``delay`` seconds unless the node stops first; logs failures."""
        if self._stopped:
            return

        async def run() -> None:
            await asyncio.sleep(delay)
            try:
                await work()
            except Exception:
                log.exception("delayed hub work failed")

        task = asyncio.create_task(run())
        self._later.add(task)
        task.add_done_callback(self._later.discard)

    async def publish(self, project_id: int, event: dict[str, object]) -> None:
        await self.broker.publish(project_events.topic(project_id), event)

    async def join(self, conn: Connection) -> ProjectRoom:
        project_id = conn.member.project_id
        room = self.rooms.get(project_id)
        if room is None:
            scope = project_events.topic(project_id)
            room = ProjectRoom(
                project_id,
                self.db,
                lambda: self.broker.presence_all(scope),
                self.settings.chat_resume_max,
            )
            self.rooms[project_id] = room
            self._subscriptions[project_id] = self.broker.subscribe(scope, room.handle)
        room.joining += 1
        try:
            await self._put_presence(conn)
            await room.admit(conn)
        finally:
            room.joining -= 1
        await self.publish(project_id, events.presence_changed())
        return room

    async def leave(self, conn: Connection) -> None:
        project_id = conn.member.project_id
        room = self.rooms.get(project_id)
        if room is None or room.connections.pop(conn.id, None) is None:
            return
        try:
            await self.broker.presence_remove(project_events.topic(project_id), conn.id)
        except BrokerUnavailable:
            log.warning("presence of %s left to expire: broker unavailable", conn.id)
        await self.publish(project_id, events.presence_changed())
        # Sockets leaving together each reach this line after their awaits: only the first one
        # that finds the room empty closes it, and never a newer room opened meanwhile.
        if not room.connections and not room.joining and self.rooms.get(project_id) is room:
            self._subscriptions.pop(project_id).cancel()
            del self.rooms[project_id]
        for hook in self.features.on_leave:
            try:
                await hook(self, conn)
            except Exception:
                log.exception("leave hook failed for %s", conn.id)

    async def presence_changed(self, conn: Connection) -> None:
        await self._put_presence(conn)
        await self.publish(conn.member.project_id, events.presence_changed())

    async def _put_presence(self, conn: Connection) -> None:
        value = entry(
            conn.id,
            conn.user_id,
            conn.display_name,
            conn.member.role.value,
            conn.device,
            conn.status,
            conn.location,
            conn.location_seen_by,
        )
        try:
            await self.broker.presence_put(
                project_events.topic(conn.member.project_id),
                conn.id,
                value,
                self.settings.presence_ttl_seconds,
            )
        except BrokerUnavailable:
            log.warning("presence of %s not stored: broker unavailable", conn.id)

    async def _tick(self) -> None:
        """Once a second: pings, idle and expired sockets; every third of a TTL: presence."""
        settings = self.settings
        last_presence = time.monotonic()
        last_ping = time.monotonic()
        ping = OutFrame(push("ping"))
        while True:
            await asyncio.sleep(1)
            now = time.monotonic()
            send_ping = now - last_ping >= settings.ws_ping_seconds
            last_ping = now if send_ping else last_ping
            refresh = now - last_presence >= settings.presence_ttl_seconds / 3
            last_presence = now if refresh else last_presence
            wall = datetime.now(UTC)
            for room in list(self.rooms.values()):
                for conn in list(room.connections.values()):
                    if now - conn.last_heard > settings.ws_idle_timeout_seconds:
                        conn.close(CloseCode.too_slow, "idle timeout: reconnect and resume")
                    elif conn.expires_at <= wall:
                        conn.close(CloseCode.unauthenticated, "token expired")
                    elif send_ping:
                        conn.push_frame(ping)
                    if refresh:
                        await self._put_presence(conn)
                if refresh:
                    room.schedule("presence", room.refresh_presence)

    async def _after_broker_outage(self) -> None:
        """Presence entries and events may have been lost while this node was cut off."""
        for room in list(self.rooms.values()):
            for conn in list(room.connections.values()):
                await self._put_presence(conn)
            room.catch_up()
