"""The node's privacy worker: takes erasure and export jobs by lease and runs them to the end.

Any node may run any job. A job is taken by moving its lease forward with a compare-and-set,
renewed after every batch; a node killed mid-job leaves the lease to run out, and the next node
that looks (any node, after a restart too) goes on from the job's last finished step. So an
erasure never stays half done, and two nodes never work on one job at the same time while its
holder lives.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.broker import Broker
from twinspace_rt.broker.base import BrokerUnavailable
from twinspace_rt.hub import events
from twinspace_rt.materials.blobs import BlobStore
from twinspace_rt.privacy import export, retention
from twinspace_rt.privacy.context import Erasure
from twinspace_rt.privacy.erasure import plan, run_step
from twinspace_rt.privacy.requests import ERASE
from twinspace_rt.projects import events as project_events
from twinspace_rt.settings import Settings
from twinspace_rt.storage import background
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.models import User
from twinspace_rt.storage.privacy import Erase
from twinspace_rt.storage.privacy_models import PrivacyJob, PrivacySettings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_clock() -> datetime:
    return datetime.now(UTC)


class PrivacyJobs:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        broker: Broker,
        store: BlobStore,
        clock: Clock = utc_clock,
    ) -> None:
        self.settings = settings
        self.db = db
        self.broker = broker
        # Exports are kept in the node's blob store (shared by a cluster), not its disk.
        self.store = store
        self.clock = clock
        # Where this node writes an archive before it goes to the store.
        self.scratch = settings.data_dir / "exports"
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._stopping.clear()
        self.scratch.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(self._sweep_scratch)
        self._tasks = [
            asyncio.create_task(self._loop()),
            asyncio.create_task(self._retention_loop()),
        ]

    def _sweep_scratch(self) -> None:
        """Archives of builds that died here (a kill mid-way), or kept here before exports
        moved to the blob store. A live build writes its file at every batch, while it renews
        its lease: a file untouched for a whole lease belongs to no live build (a folder shared
        by mistake between nodes loses nothing)."""
        stale = time.time() - self.settings.privacy_job_lease_seconds
        for left in self.scratch.iterdir():
            if left.is_file() and left.stat().st_mtime < stale:
                left.unlink(missing_ok=True)

    async def stop(self) -> None:
        """Each loop finishes the step it is in (`storage/background.py`)."""
        tasks, self._tasks = self._tasks, []
        await background.stop(self._stopping, tasks)

    async def _retention_loop(self) -> None:
        """Tries the run every poll; the lease lets one node per interval through."""
        while not self._stopping.is_set():
            try:
                report = await retention.run(
                    self.db,
                    self.settings,
                    self.store,
                    self.broker.node_id,
                    self.clock(),
                    self._pause,
                )
                if report.ran:
                    log.info("retention run: %s", report)
            except Exception:
                log.exception("retention run failed; the next interval tries again")
            await background.rest(self._stopping, self.settings.privacy_poll_seconds)

    async def _pause(self) -> None:
        await asyncio.sleep(self.settings.privacy_batch_pause_ms / 1000)

    def wake(self) -> None:
        """A job was just requested on this node: look now rather than at the next poll."""
        self._wake.set()

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                job_id = await self._claim()
                if job_id is not None:
                    await self.run(job_id)
                    continue
            except Exception:  # one job's failure must not stop the worker
                log.exception("privacy job failed; it is taken up again when its lease ends")
            self._wake.clear()
            await background.rest(self._stopping, self.settings.privacy_poll_seconds, self._wake)

    def _lease(self) -> datetime:
        return self.clock() + timedelta(seconds=self.settings.privacy_job_lease_seconds)

    async def _claim(self) -> int | None:
        jobs = PrivacyJob.__table__  # type: ignore[attr-defined]
        now = self.clock()
        free = or_(jobs.c.lease_until.is_(None), jobs.c.lease_until < now)
        async with self.db.transaction() as tx:
            connection = await tx.connection()
            job_id = (
                await connection.execute(
                    select(jobs.c.id)
                    .where(jobs.c.state.in_(("pending", "running")), free)
                    .order_by(jobs.c.id)
                    .limit(1)
                )
            ).scalar()
            if job_id is None:
                return None
            taken = await connection.execute(
                update(jobs)
                .where(jobs.c.id == job_id, free)
                .values(state="running", lease_until=self._lease())
            )
            return int(job_id) if taken.rowcount == 1 else None

    async def _renew(self, job_id: int, step: int | None = None) -> None:
        values: dict[str, object] = {"lease_until": self._lease()}
        if step is not None:
            values["step"] = step
        async with self.db.transaction() as tx:
            connection = await tx.connection()
            jobs = PrivacyJob.__table__  # type: ignore[attr-defined]
            await connection.execute(update(jobs).where(jobs.c.id == job_id).values(values))
        await self._pause()

    async def run(self, job_id: int) -> None:
        async with self.db.reader() as tx:
            job = await tx.get(PrivacyJob, job_id)
        assert job is not None
        if job.kind == ERASE:
            await self._erase(job)
        else:
            name = await export.build(
                self.db,
                job,
                self.store,
                self.scratch,
                self.settings.materials_chunk_bytes,
                lambda: self._renew(job_id),
            )
            async with self.db.transaction() as tx:
                kept = await self._finish(await tx.connection(), job_id, file_name=name)
            if not kept:
                # The member was erased while this was built (the erasure deleted the job, and
                # the files it knew of): this archive must not outlive them either.
                await self.store.delete(export.blob_key(name))
                log.info("privacy job %s: its member was erased meanwhile; export dropped", job_id)

    async def _erase(self, job: PrivacyJob) -> None:
        assert job.id is not None and job.subject_user_id is not None
        assert job.placeholder_id is not None
        job_id, subject = job.id, job.subject_user_id
        async with self.db.reader() as tx:
            user = await tx.get(User, subject)
            modes = {p: await _mode(tx, self.settings, p) for p in job.projects}
        names = (user.username, user.display_name) if user is not None else ()
        parts: list[int | None] = list(job.projects)
        if job.project_id is None:
            parts.append(None)
        steps = [(project, step) for project in parts for step in plan(project)]
        # Then the row steps once more: a chat message or an edit from a socket that was still
        # closing when the membership went (on another node) is caught by this sweep.
        steps += [(project, step) for project, step in steps if step.action is not Erase.custom]
        for index in range(job.step, len(steps)):
            project, step = steps[index]
            erasure = Erasure(
                job_id=job_id,
                subject=subject,
                placeholder=job.placeholder_id,
                project_id=project,
                mode=modes.get(project or 0, self.settings.privacy_erase_mode),
                now=self.clock(),
                batch=self.settings.privacy_batch_size,
                names=names,
                settings=self.settings,
            )
            await run_step(self.db, erasure, step, lambda: self._renew(job_id))
            await self._renew(job_id, index + 1)
        for project_id in job.projects:
            await self._forget_presence(project_id, subject)
        async with self.db.transaction() as tx:
            connection = await tx.connection()
            # In the same transaction: the account is gone exactly when the job is done (and
            # the job, which pointed to it, first lets go of it).
            await self._finish(connection, job_id)
            if job.project_id is None:
                users = User.__table__  # type: ignore[attr-defined]
                await connection.execute(delete(users).where(users.c.id == subject))
        for project_id in job.projects:
            topic = project_events.topic(project_id)
            await self.broker.publish(topic, events.presence_changed())
            await self.broker.publish(topic, project_events.room_changed())
        log.info("privacy job %s: erasure finished", job_id)

    async def _forget_presence(self, project_id: int, user_id: int) -> None:
        """Entries a crashed node left behind would otherwise wait for their TTL."""
        scope = project_events.topic(project_id)
        try:
            for key, value in (await self.broker.presence_all(scope)).items():
                if value.get("user_id") == user_id:
                    await self.broker.presence_remove(scope, key)
        except BrokerUnavailable:
            log.warning("presence in project %s left to expire: broker unavailable", project_id)

    async def _finish(
        self, connection: AsyncConnection, job_id: int, file_name: str | None = None
    ) -> bool:
        """False when the job is gone (an erasure of its member deleted it meanwhile)."""
        values: dict[str, object] = {
            "state": "done",
            "finished_at": self.clock(),
            "lease_until": None,
        }
        if file_name is None:
            values["subject_user_id"] = None
        else:
            values["file_name"] = file_name
        jobs = PrivacyJob.__table__  # type: ignore[attr-defined]
        done = await connection.execute(update(jobs).where(jobs.c.id == job_id).values(values))
        return int(done.rowcount) == 1


async def _mode(tx: AsyncSession, settings: Settings, project_id: int) -> str:
    found = await tx.get(PrivacySettings, project_id)
    return found.erase_mode if found is not None else settings.privacy_erase_mode
