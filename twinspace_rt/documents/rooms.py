"""The registry of the documents open on this node, and the one owner of each step of a
document's life: open (subscribe, then load), prove, store (group commit), relay (publish after
the commit), compact, version after a spell of activity, and unload after a grace period.

Each step calls into the document (`room.DocRoom`), which owns its state; no callback is passed
down to be called back up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from twinspace_rt import observability
from twinspace_rt.broker.base import Broker, Subscription
from twinspace_rt.documents import log as update_log
from twinspace_rt.documents import store, versions
from twinspace_rt.documents.connection import DocConnection
from twinspace_rt.documents.guard import PASS_THROUGH
from twinspace_rt.documents.room import DocRef, DocRoom, topic
from twinspace_rt.projects import events as project_events
from twinspace_rt.projects.accounts import carry_session
from twinspace_rt.projects.rooms import standings
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.group_commit import GroupCommit
from twinspace_rt.ws.close_codes import FOR_ERROR, CloseCode

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Queued:
    """An update proven on its document's scratch replica, waiting for the group commit."""

    room: DocRoom
    update: bytes
    origin: str | None  # the socket it came from: it is not sent back there
    user_id: int | None


def _unless_stored(room: DocRoom, update: bytes, queued: asyncio.Future[None]) -> None:
    if queued.cancelled() or queued.exception() is not None:
        room.not_stored(update)


class DocRooms:
    def __init__(self, settings: Settings, db: Database, broker: Broker) -> None:
        self.settings = settings
        self.db = db
        self.broker = broker
        self._log: GroupCommit[_Queued, None] = GroupCommit(
            self._store, settings.docs_commit_window_ms / 1000, name="documents"
        )
        self.rooms: dict[int, DocRoom] = {}
        self._subscriptions: dict[int, Subscription] = {}
        self._unloads: dict[int, asyncio.TimerHandle] = {}
        self._work: set[asyncio.Task[Any]] = set()
        self._compacting: set[int] = set()
        # Each project with open documents: its topic carries membership and status changes.
        self._projects: dict[int, tuple[Subscription, int]] = {}
        self._clock: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.broker.on_reconnect(self._after_broker_outage)
        self._clock = asyncio.create_task(self._tick())

    async def _after_broker_outage(self) -> None:
        """Updates from other nodes may have been lost: re-read every open document."""
        for room in list(self.rooms.values()):
            self._spawn(observability.job("reload", room.reload()))
            self._spawn(self._recheck(room.ref.project_id))

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
        for timer in self._unloads.values():
            timer.cancel()
        for room in list(self.rooms.values()):
            for conn in list(room.connections.values()):
                conn.close(CloseCode.going_away, "server shutting down: reconnect")
        await self._log.close(drain=True)
        for task in list(self._work):
            task.cancel()
        await asyncio.gather(*self._work, return_exceptions=True)

    async def open(self, ref: DocRef) -> DocRoom:
        """The loaded room of a document, opened here if needed."""
        room = self.rooms.get(ref.id)
        if room is None:
            room = DocRoom(ref, self.db)
            self.rooms[ref.id] = room
            self._subscriptions[ref.id] = self.broker.subscribe(topic(ref.id), room.handle)
            self._watch(ref.project_id, +1)
            try:
                await room.load()
            except Exception:
                self._drop(room)
                raise
        self._keep(room)
        await asyncio.shield(room.loaded)
        return room

    @contextlib.asynccontextmanager
    async def held(self, ref: DocRef) -> AsyncIterator[DocRoom]:
        """The room for a REST request; released (and maybe unloaded later) afterwards."""
        room = await self.open(ref)
        room.holds += 1
        try:
            yield room
        finally:
            room.holds -= 1
            self.release(room)

    async def join(self, ref: DocRef, conn: DocConnection) -> DocRoom:
        room = await self.open(ref)
        room.connections[conn.id] = conn
        room.greet(conn)
        return room

    async def leave(self, room: DocRoom, conn: DocConnection) -> None:
        room.connections.pop(conn.id, None)
        try:
            removal = room.forget(conn)
            if removal is not None:
                await self._publish(room, {"kind": "awareness", "data": removal})
        finally:
            self.release(room)

    async def awareness(self, room: DocRoom, conn: DocConnection, payload: bytes) -> None:
        """A socket's cursor: what is news of its own goes to every node."""
        own = room.own_awareness(conn, payload)
        if own is not None:
            await self._publish(room, {"kind": "awareness", "data": own})

    async def submit(
        self, room: DocRoom, update: bytes, origin: str | None, user_id: int | None
    ) -> bool:
        """Stores and relays an update; False when it carried nothing."""
        queued = self.queue(room, update, origin, user_id)
        if queued is None:
            return False
        await queued
        return True

    def queue(
        self, room: DocRoom, update: bytes, origin: str | None, user_id: int | None
    ) -> asyncio.Future[None] | None:
        """Proves an update, then queues it to be stored and relayed, in order, without waiting
        for it: a socket's reader takes its next message meanwhile (waiting held one socket to
        one update per commit window). None when it carried nothing.

        The relay runs in the batch that stored the update, so a socket that closes while its
        updates are being committed cannot strand a stored update nobody was sent."""
        if not room.prove(update):
            return None
        queued = self._log.enqueue(_Queued(room, update, origin, user_id))
        queued.add_done_callback(lambda done: _unless_stored(room, update, done))
        return queued

    async def _store(self, batch: list[_Queued]) -> list[None | Exception]:
        """The group commit's batch: store every update, then relay each stored one in arrival
        order: never before the commit."""
        appends = [update_log.Append(q.room.ref.id, q.update, q.user_id) for q in batch]
        results = await update_log.write(self.db, appends)
        for queued, result in zip(batch, results, strict=True):
            if result is None:
                await self._relay(queued)
        return results

    async def _relay(self, queued: _Queued) -> None:
        """One stored update to every node; a failure here (even a Rust panic in a handler) stays
        with its document, and neither skips the batch's other updates nor ends the writer."""
        room = queued.room
        try:
            room.stored(queued.update)
            await self._publish(
                room, {"kind": "update", "conn": queued.origin, "data": queued.update}
            )
            settings = self.settings
            if (
                room.log_rows >= settings.docs_compact_updates
                or room.log_bytes >= settings.docs_compact_bytes
            ):
                self._spawn(observability.job("compaction", self._compact(room)))
        except PASS_THROUGH:
            raise
        except BaseException:  # noqa: B036 - stored all the same; other nodes re-read
            log.exception("document %s: relaying a stored update failed", room.ref.id)

    async def _publish(self, room: DocRoom, event: dict[str, Any]) -> None:
        await self.broker.publish(topic(room.ref.id), event)

    def release(self, room: DocRoom) -> None:
        """An idle room is unloaded after the grace period unless someone comes back."""
        if not room.idle or self.rooms.get(room.ref.id) is not room:
            return
        self._keep(room)
        loop = asyncio.get_running_loop()
        grace = self.settings.docs_unload_grace_seconds
        self._unloads[room.ref.id] = loop.call_later(
            grace, lambda: self._spawn(observability.job("unload", self._unload(room)))
        )

    def closed(self, document_id: int) -> None:
        """The document was deleted: its sockets close on every node (see `DocRoom.handle`)."""
        self._spawn(self.broker.publish(topic(document_id), {"kind": "deleted"}))

    def _keep(self, room: DocRoom) -> None:
        timer = self._unloads.pop(room.ref.id, None)
        if timer is not None:
            timer.cancel()

    async def _unload(self, room: DocRoom) -> None:
        if not room.idle or self.rooms.get(room.ref.id) is not room:
            return
        self._unloads.pop(room.ref.id, None)
        self._drop(room)
        if room.edited_at is not None:
            await versions.save_auto(self.db, room.ref.id)

    def _drop(self, room: DocRoom) -> None:
        if self.rooms.get(room.ref.id) is room:
            del self.rooms[room.ref.id]
            self._subscriptions.pop(room.ref.id).cancel()
            self._watch(room.ref.project_id, -1)

    def _watch(self, project_id: int, change: int) -> None:
        subscription, count = self._projects.get(project_id, (None, 0))
        if subscription is None:
            subscription = self.broker.subscribe(
                project_events.topic(project_id),
                lambda event: self._project_event(project_id, event),
            )
        if count + change > 0:
            self._projects[project_id] = (subscription, count + change)
        else:
            subscription.cancel()
            self._projects.pop(project_id, None)

    async def _project_event(self, project_id: int, event: dict[str, Any]) -> None:
        if event["kind"] in ("room", "gap"):
            carry_session(self._sockets(project_id), event)
            self._spawn(self._recheck(project_id))

    async def _recheck(self, project_id: int) -> None:
        """Removals, role changes, archiving and revoked sessions reach open documents too."""
        conns = self._sockets(project_id)
        async with self.db.reader() as session:
            found = await standings(session, project_id, {conn.user_id for conn in conns})
        for conn in conns:
            standing = found.get(conn.user_id)
            if standing is None:
                continue
            refusal = standing.verdict(conn.token_generation)
            if refusal is not None:
                conn.close(FOR_ERROR[refusal], "no longer admitted to this document")
            elif standing.member is not None:
                conn.member = standing.member

    def _sockets(self, project_id: int) -> list[DocConnection]:
        return [
            conn
            for room in list(self.rooms.values())
            if room.ref.project_id == project_id
            for conn in room.connections.values()
        ]

    async def _compact(self, room: DocRoom) -> None:
        if room.ref.id in self._compacting:
            return
        self._compacting.add(room.ref.id)
        try:
            rows, size = await store.compact(self.db, room.ref.id)
            room.log_rows = max(0, room.log_rows - rows)
            room.log_bytes = max(0, room.log_bytes - size)
        finally:
            self._compacting.discard(room.ref.id)

    async def _tick(self) -> None:
        """Every second: expired tokens end their sockets; documents quiet for a while after
        edits get an automatic version."""
        while True:
            await asyncio.sleep(1)
            quiet = time.monotonic() - self.settings.docs_version_after_seconds
            now = datetime.now(UTC)
            for room in list(self.rooms.values()):
                for conn in list(room.connections.values()):
                    if conn.expires_at <= now:
                        conn.close(CloseCode.unauthenticated, "token expired")
                if room.edited_at is not None and room.edited_at <= quiet:
                    room.edited_at = None
                    self._spawn(
                        observability.job("version", versions.save_auto(self.db, room.ref.id))
                    )

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._work.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._work.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("documents: background work failed", exc_info=task.exception())
