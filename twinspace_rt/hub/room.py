"""A project's sockets on this node, and what happens when an event for the project arrives."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from twinspace_rt.auth.policy import Action, can
from twinspace_rt.broker.base import BrokerUnavailable
from twinspace_rt.errors import ErrorCode
from twinspace_rt.hub.connection import Connection
from twinspace_rt.hub.presence import group, presence_diff, seen
from twinspace_rt.hub.protocol import push
from twinspace_rt.hub.replay import catch_up
from twinspace_rt.projects.accounts import carry_sign_in
from twinspace_rt.projects.membership import standings
from twinspace_rt.storage.engine import Database
from twinspace_rt.ws.close_codes import CloseCode
from twinspace_rt.ws.transport import OutFrame

log = logging.getLogger(__name__)

PresenceSource = Callable[[], Awaitable[dict[str, dict[str, Any]]]]


class ProjectRoom:
    def __init__(
        self, project_id: int, db: Database, presence_source: PresenceSource, resume_max: int
    ) -> None:
        self.project_id = project_id
        self._resume_max = resume_max
        self.connections: dict[str, Connection] = {}
        # Sockets between handshake and admission: the room must not be dropped under them.
        self.joining = 0
        self._db = db
        self._presence_source = presence_source
        self._presence: dict[int, dict[str, Any]] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._presence_lock = asyncio.Lock()

    async def handle(self, event: dict[str, Any]) -> None:
        """Called in publish order; never waits on I/O so the next event is not held up."""
        kind = event["kind"]
        # A socket holds a cursor only for channels its member may read: subscribing checks,
        # and `recheck_members` drops cursors a changed role no longer allows.
        # Pushing never removes a socket from ``connections`` (closing is only flagged), so
        # the hottest loop, chat, needs no copy of it.
        if kind == "stream":
            key, version = event["key"], event["version"]
            frame = OutFrame(event["frame"])
            for conn in self.connections.values():
                cursor = conn.cursors.get(key)
                if cursor is not None:
                    conn.deliver(cursor, version, frame)
        elif kind == "stream_readers":
            frame = OutFrame(event["frame"])
            for conn in list(self.connections.values()):
                if conn.user_id != event["but"] and event["key"] in conn.cursors:
                    conn.push_frame(frame)
        elif kind == "moderators":
            action = Action(event.get("action", Action.chat_moderate))
            frame = OutFrame(event["frame"])
            for conn in list(self.connections.values()):
                if can(conn.member, action):
                    conn.push_frame(frame)
        elif kind == "connection":
            target = self.connections.get(event["connection_id"])
            if target is not None:
                target.push(event["frame"])
        elif kind == "connections":
            frame = OutFrame(event["frame"])
            for connection_id in event["connection_ids"]:
                found = self.connections.get(connection_id)
                if found is not None:
                    found.push_frame(frame)
        elif kind == "user":
            frame = OutFrame(event["frame"])
            for conn in list(self.connections.values()):
                if conn.user_id == event["user_id"]:
                    conn.push_frame(frame)
        elif kind == "everyone":
            frame = OutFrame(event["frame"])
            for conn in list(self.connections.values()):
                conn.push_frame(frame)
        elif kind == "presence":
            self.schedule("presence", self.refresh_presence)
        elif kind == "room":
            carry_sign_in(self.connections.values(), event)
            self.schedule("room", self.recheck_members)
        elif kind == "gap":
            self.catch_up()

    def catch_up(self) -> None:
        """Events may have been lost: re-read presence, members and every subscribed channel."""
        self.schedule("presence", self.refresh_presence)
        self.schedule("room", self.recheck_members)
        self.schedule("chat", self._replay_missed)

    async def _replay_missed(self) -> None:
        for conn in list(self.connections.values()):
            if not conn.closing:
                await catch_up(self._db, conn, self._resume_max)

    def schedule(self, name: str, work: Callable[[], Awaitable[None]]) -> None:
        """One run at a time per kind of work; a request during a run asks for one more run."""
        if name in self._tasks:
            self._again.add(name)
            return

        async def run() -> None:
            try:
                while True:
                    self._again.discard(name)
                    try:
                        await work()
                    except Exception:
                        log.exception("room %s: %s failed", self.project_id, name)
                    if name not in self._again:
                        return
            finally:
                self._tasks.pop(name, None)

        self._tasks[name] = asyncio.create_task(run())

    async def admit(self, conn: Connection) -> None:
        """Adds a socket and gives it the presence state that later diffs start from."""
        async with self._presence_lock:
            current = await self._broadcast_presence_changes()
            self.connections[conn.id] = conn
            conn.push(push("presence.state", users=list(seen(current, conn.member).values())))

    async def refresh_presence(self) -> None:
        async with self._presence_lock:
            await self._broadcast_presence_changes()

    async def _broadcast_presence_changes(self) -> dict[int, dict[str, Any]]:
        """Diffs against what this room last told its sockets; callers hold the lock."""
        try:
            current = group(await self._presence_source())
        except BrokerUnavailable:
            return self._presence
        before, self._presence = self._presence, current
        # Encoded once per role and status: what a member may see depends on nothing else.
        frames: dict[tuple[str, str], list[OutFrame]] = {}
        for conn in list(self.connections.values()):
            member = conn.member
            key = (member.role.value, member.project_status.value)
            if key not in frames:
                diff = presence_diff(seen(before, member), seen(current, member))
                frames[key] = [OutFrame(push(kind, user=entry)) for kind, entry in diff]
            for frame in frames[key]:
                conn.push_frame(frame)
        return current

    async def recheck_members(self) -> None:
        """Applies removals, role changes, archiving and revoked tokens to live sockets."""
        user_ids = {conn.user_id for conn in self.connections.values()}
        async with self._db.reader() as tx:
            found = await standings(tx, self.project_id, user_ids)
        for conn in list(self.connections.values()):
            standing = found.get(conn.user_id)
            if standing is None:
                continue
            refusal = standing.verdict(conn.token_generation)
            if refusal is ErrorCode.forbidden:
                conn.close(CloseCode.forbidden, "removed from the project")
            elif refusal is ErrorCode.token_invalid:
                conn.close(CloseCode.unauthenticated, "session revoked")
            elif refusal is ErrorCode.project_closed:
                conn.close(CloseCode.forbidden, "the project was closed")
            elif standing.member is not None and standing.member != conn.member:
                member = standing.member
                conn.member = member
                _drop_unreadable(conn)
                conn.push(
                    push(
                        "room.changed",
                        role=member.role.value,
                        status=member.project_status.value,
                        permissions=[a.value for a in Action if can(member, a)],
                    )
                )


def _drop_unreadable(conn: Connection) -> None:
    """After a role change: a stream the member may no longer read is neither live nor replayed."""
    for key, cursor in list(conn.cursors.items()):
        if not cursor.readable(conn.member):
            del conn.cursors[key]
