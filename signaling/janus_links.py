"""This node's connections to the Janus instances it is configured with, one Janus session and
one room-managing handle on each, opened on first need.

Several instances may be configured (``TWINSPACE_RTC_JANUS_SOCKET``, comma-separated paths, the
same on every node); each SFU session lives on one (`sfu_placement.py`). When an instance's
connection drops, or it cannot be reached at all, the handles this node held on it are gone,
and ``on_lost`` is told which instance, so its sessions can move to another.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from signaling.janus import Handle, JanusConnection, JanusError, JanusSession
from signaling.sfu_rooms import refusal
from twinspace_rt.settings import Settings


@dataclass
class _Link:
    session: JanusSession
    manager: Handle


class JanusLinks:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.servers = [p.strip() for p in settings.rtc_janus_socket.split(",") if p.strip()]
        self._links: dict[str, _Link] = {}
        self._connecting = asyncio.Lock()
        # Called with an instance whose connection dropped (this node's handles there are gone).
        self.on_lost: Callable[[str], None] | None = None

    async def connect(self, server: str) -> tuple[JanusSession, Handle]:
        async with self._connecting:
            link = self._links.get(server)
            if link is None or not link.session.alive:
                if server not in self.servers:
                    raise JanusError(0, "that media server is not configured")
                secret = self._settings.rtc_janus_api_secret
                try:
                    connection = await JanusConnection.open(
                        server,
                        None if secret is None else secret.get_secret_value(),
                        self._settings.rtc_janus_reply_seconds,
                    )
                except JanusError:
                    # Perhaps dead before this node ever reached it: its sessions move too.
                    if self.on_lost is not None:
                        self.on_lost(server)
                    raise
                session = await JanusSession.create(
                    connection, self._settings.rtc_janus_keepalive_seconds
                )
                link = _Link(session, await session.attach())
                self._links[server] = link
                connection.on_lost = lambda: self._lost(server, link)
            return link.session, link.manager

    def _lost(self, server: str, link: _Link) -> None:
        if self._links.get(server) is link:
            del self._links[server]
            if self.on_lost is not None:
                self.on_lost(server)

    @asynccontextmanager
    async def janus(self, server: str) -> AsyncIterator[tuple[JanusSession, Handle]]:
        """Janus's refusals and failures as the client's errors."""
        try:
            yield await self.connect(server)
        except JanusError as exc:
            raise refusal(exc) from exc

    async def reachable(self, server: str) -> bool:
        try:
            await self.connect(server)
        except JanusError:
            return False
        return True

    async def close(self) -> None:
        links, self._links = self._links, {}
        for link in links.values():
            connection = link.session.connection
            await link.session.destroy()
            await connection.close()
