"""The registry of the documents open on this node, and the one owner of each step of a
document's life: open (subscribe, then load), prove, store (group commit), relay (publish after
the commit), compact, version after a spell of activity, and unload after a grace period.

Each step calls into the document (`document.LiveDocument`), which owns its state; no callback
is passed down to be called back up.
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
from twinspace_rt.documents import catalog, store, versions
from twinspace_rt.documents import log as update_log
from twinspace_rt.documents.connection import DocConnection
from twinspace_rt.documents.document import DocRef, LiveDocument, topic
from twinspace_rt.documents.guard import PASS_THROUGH
from twinspace_rt.projects import events as project_events
from twinspace_rt.projects.accounts import carry_sign_in
from twinspace_rt.projects.membership import standings
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database, GroupCommit
from twinspace_rt.ws.close_codes import FOR_ERROR, CloseCode

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Queued:
    """An update proven on its document's scratch replica, waiting for the group commit."""

    live: LiveDocument
    update: bytes
    origin: str | None  # the socket it came from: it is not sent back there
    user_id: int | None


def _unless_stored(live: LiveDocument, update: bytes, queued: asyncio.Future[None]) -> None:
    if queued.cancelled() or queued.exception() is not None:
        live.not_stored(update)


class DocumentRegistry:
    def __init__(self, settings: Settings, db: Database, broker: Broker) -> None:
        self.settings = settings
        self.db = db
        self.broker = broker
        self._log: GroupCommit[_Queued, None] = GroupCommit(self._store, name="documents")
        self.by_id: dict[int, LiveDocument] = {}
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
        for live in list(self.by_id.values()):
            self._spawn(observability.job("reload", live.reload()))
            self._spawn(self._recheck(live.ref.project_id))

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
        for timer in self._unloads.values():
            timer.cancel()
        for live in list(self.by_id.values()):
            for conn in list(live.connections.values()):
                conn.close(CloseCode.going_away, "server shutting down: reconnect")
        await self._log.close(drain=True)
        for task in list(self._work):
            task.cancel()
        await asyncio.gather(*self._work, return_exceptions=True)

    async def open(self, ref: DocRef) -> LiveDocument:
        """The loaded document, opened here if needed."""
        live = self.by_id.get(ref.id)
        if live is None:
            live = LiveDocument(ref, self.db)
            self.by_id[ref.id] = live
            self._subscriptions[ref.id] = self.broker.subscribe(topic(ref.id), live.handle)
            self._watch(ref.project_id, +1)
            try:
                await live.load()
            except Exception:
                self._drop(live)
                raise
        self._keep(live)
        await asyncio.shield(live.loaded)
        return live

    @contextlib.asynccontextmanager
    async def held(self, ref: DocRef) -> AsyncIterator[LiveDocument]:
        """The document for a REST request; released (and maybe unloaded later) afterwards."""
        live = await self.open(ref)
        live.holds += 1
        try:
            yield live
        finally:
            live.holds -= 1
            self.release(live)

    async def join(self, ref: DocRef, conn: DocConnection) -> LiveDocument:
        live = await self.open(ref)
        live.connections[conn.id] = conn
        live.greet(conn)
        return live

    async def leave(self, live: LiveDocument, conn: DocConnection) -> None:
        live.connections.pop(conn.id, None)
        try:
            removal = live.forget(conn)
            if removal is not None:
                await self._publish(live, {"kind": "awareness", "data": removal})
        finally:
            self.release(live)

    async def awareness(self, live: LiveDocument, conn: DocConnection, payload: bytes) -> None:
        """A socket's cursor: what is news of its own goes to every node."""
        own = live.own_awareness(conn, payload)
        if own is not None:
            await self._publish(live, {"kind": "awareness", "data": own})

    async def submit(
        self, live: LiveDocument, update: bytes, origin: str | None, user_id: int | None
    ) -> bool:
        """Stores and relays an update; False when it carried nothing."""
        queued = self.queue(live, update, origin, user_id)
        if queued is None:
            return False
        await queued
        return True

    def queue(
        self, live: LiveDocument, update: bytes, origin: str | None, user_id: int | None
    ) -> asyncio.Future[None] | None:
        """Proves an update, then queues it to be stored and relayed, in order, without waiting
        for it: a socket's reader takes its next message meanwhile (waiting held one socket to
        one update per commit). None when it carried nothing.

        The relay runs in the batch that stored the update, so a socket that closes while its
        updates are being committed cannot strand a stored update nobody was sent."""
        if not live.prove(update):
            return None
        queued = self._log.enqueue(_Queued(live, update, origin, user_id))
        queued.add_done_callback(lambda done: _unless_stored(live, update, done))
        return queued

    async def _store(self, batch: list[_Queued]) -> list[None | Exception]:
        """The group commit's batch: store every update, then relay each stored one in arrival
        order: never before the commit."""
        appends = [update_log.Append(q.live.ref.id, q.update, q.user_id) for q in batch]
        results = await update_log.write(self.db, appends)
        for queued, result in zip(batch, results, strict=True):
            if result is None:
                await self._relay(queued)
        return results

    async def _relay(self, queued: _Queued) -> None:
        """One stored update to every node; a failure here (even a Rust panic in a handler) stays
        with its document, and neither skips the batch's other updates nor ends the writer."""
        live = queued.live
        try:
            live.stored(queued.update)
            await self._publish(
                live, {"kind": "update", "conn": queued.origin, "data": queued.update}
            )
            if self._log_too_long(live):
                self._spawn(observability.job("compaction", self._compact(live)))
        except PASS_THROUGH:
            raise
        except BaseException:  # noqa: B036 - stored all the same; other nodes re-read
            log.exception("document %s: relaying a stored update failed", live.ref.id)

    async def _publish(self, live: LiveDocument, event: dict[str, Any]) -> None:
        await self.broker.publish(topic(live.ref.id), event)

    def release(self, live: LiveDocument) -> None:
        """An idle document is unloaded after the grace period unless someone comes back."""
        if not live.idle or self.by_id.get(live.ref.id) is not live:
            return
        self._keep(live)
        loop = asyncio.get_running_loop()
        grace = self.settings.docs_unload_grace_seconds
        self._unloads[live.ref.id] = loop.call_later(
            grace, lambda: self._spawn(observability.job("unload", self._unload(live)))
        )

    def closed(self, document_id: int) -> None:
        """The document was deleted: its sockets close on every node (see `LiveDocument.handle`)."""
        self._spawn(self.broker.publish(topic(document_id), {"kind": "deleted"}))

    def _keep(self, live: LiveDocument) -> None:
        timer = self._unloads.pop(live.ref.id, None)
        if timer is not None:
            timer.cancel()

    async def _unload(self, live: LiveDocument) -> None:
        if not live.idle or self.by_id.get(live.ref.id) is not live:
            return
        self._unloads.pop(live.ref.id, None)
        self._drop(live)
        if live.edited_at is not None:
            await versions.save_auto(self.db, live.ref.id)

    def _drop(self, live: LiveDocument) -> None:
        if self.by_id.get(live.ref.id) is live:
            del self.by_id[live.ref.id]
            self._subscriptions.pop(live.ref.id).cancel()
            self._watch(live.ref.project_id, -1)

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
            carry_sign_in(self._sockets(project_id), event)
            self._spawn(self._recheck(project_id))

    async def _recheck(self, project_id: int) -> None:
        """Removals, role changes, archiving and revoked sessions reach open documents too, and
        so does a change of what a document's owner asks (a page back to draft)."""
        conns = self._sockets(project_id)
        opened = [live for live in self.by_id.values() if live.ref.project_id == project_id]
        async with self.db.reader() as tx:
            found = await standings(tx, project_id, {conn.user_id for conn in conns})
            rows = {doc.id: doc for doc in await catalog.by_ids(tx, [d.ref.id for d in opened])}
        for live in opened:
            document = rows.get(live.ref.id)
            for conn in list(live.connections.values()):
                standing = found.get(conn.user_id)
                if standing is None:
                    continue
                refusal = standing.verdict(conn.token_generation)
                if refusal is not None:
                    conn.close(FOR_ERROR[refusal], "no longer admitted to this document")
                    continue
                if standing.member is not None:
                    conn.member = standing.member
                if document is not None:
                    conn.edit_actions = catalog.edit_actions(document)
                    if not catalog.may_open(conn.member, document):
                        conn.close(CloseCode.not_found, "no longer admitted to this document")

    def _sockets(self, project_id: int) -> list[DocConnection]:
        return [
            conn
            for live in list(self.by_id.values())
            if live.ref.project_id == project_id
            for conn in live.connections.values()
        ]

    def _log_too_long(self, live: LiveDocument) -> bool:
        settings = self.settings
        return (
            live.log_rows >= settings.docs_compact_updates
            or live.log_bytes >= settings.docs_compact_bytes
        )

    async def _compact(self, live: LiveDocument) -> None:
        """One compaction per document at a time. Updates stored meanwhile asked for none; if
        they filled the log again, it runs once more, or the log would stay long until the
        document's next edit."""
        if live.ref.id in self._compacting:
            return
        self._compacting.add(live.ref.id)
        try:
            rows, size = await store.compact(self.db, live.ref.id)
            live.log_rows = max(0, live.log_rows - rows)
            live.log_bytes = max(0, live.log_bytes - size)
        finally:
            self._compacting.discard(live.ref.id)
        if rows and self._log_too_long(live) and self.by_id.get(live.ref.id) is live:
            self._spawn(observability.job("compaction", self._compact(live)))

    async def _tick(self) -> None:
        """Every second: expired tokens end their sockets; documents quiet for a while after
        edits get an automatic version."""
        while True:
            await asyncio.sleep(1)
            quiet = time.monotonic() - self.settings.docs_version_after_seconds
            now = datetime.now(UTC)
            for live in list(self.by_id.values()):
                for conn in list(live.connections.values()):
                    if conn.expires_at <= now:
                        conn.close(CloseCode.unauthenticated, "token expired")
                if live.edited_at is not None and live.edited_at <= quiet:
                    live.edited_at = None
                    self._spawn(
                        observability.job("version", versions.save_auto(self.db, live.ref.id))
                    )

    def _spawn(self, work: Any) -> None:
        task = asyncio.ensure_future(work)
        self._work.add(task)
        task.add_done_callback(self._finished)

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._work.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("documents: background work failed", exc_info=task.exception())
