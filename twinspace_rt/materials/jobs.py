"""The durable processing queue: one row per finished upload (`MaterialJob`), run by workers on
any node, off the event loop.

A worker claims a job with one conditional ``UPDATE`` (pending, or running with its lease
expired), so two nodes never run the same job and a job whose worker died, a crashed node
included, is taken again once its lease runs out. Processing itself (decode, re-encode, remux)
runs in a thread; the loop only moves bytes and rows. The same runner sweeps expired uploads.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import col, or_, select

from twinspace_rt import observability
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.materials import library, processing, uploads
from twinspace_rt.materials.blobs import BlobStore, parts_prefix, put_content, write_local
from twinspace_rt.materials.kinds import CollectionKind
from twinspace_rt.materials.streams import Change
from twinspace_rt.settings import Settings
from twinspace_rt.storage import background
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.material_models import (
    Material,
    MaterialCollection,
    MaterialJob,
    MaterialUpload,
)
from twinspace_rt.storage.models import utcnow

log = logging.getLogger(__name__)

# An idle worker looks for jobs queued by other nodes this often (its own wake it at once).
POLL_SECONDS = 2.0
# A job that failed unexpectedly this many times is given up (the upload is `failed`).
MAX_ATTEMPTS = 3

Publish = Callable[[int, dict[str, Any]], Awaitable[None]]


class JobRunner:
    def __init__(self, settings: Settings, db: Database, store: BlobStore, publish: Publish):
        self.settings = settings
        self.db = db
        self.store = store
        self.publish = publish
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.limits = processing.Limits(
            settings.materials_image_max_pixels,
            settings.materials_image_max_bytes,
            settings.materials_media_max_bytes,
            settings.materials_media_max_seconds,
        )

    def start(self) -> None:
        self._stopping.clear()
        for _ in range(self.settings.materials_workers):
            self._tasks.append(asyncio.create_task(self._work()))
        self._tasks.append(asyncio.create_task(self._sweep()))

    async def stop(self) -> None:
        """Each worker finishes the step it is in (`storage/background.py`)."""
        tasks, self._tasks = self._tasks, []
        await background.stop(self._stopping, tasks)

    def wake(self) -> None:
        self._wake.set()

    async def _work(self) -> None:
        while not self._stopping.is_set():
            try:
                job = await self.claim()
                if job is None:
                    self._wake.clear()
                    await background.rest(self._stopping, POLL_SECONDS, self._wake)
                    continue
                await observability.job("materials.process", self.run(job))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("materials job failed; it is retried after its lease")
                await background.rest(self._stopping, POLL_SECONDS)

    async def claim(self) -> MaterialJob | None:
        now = utcnow()
        claimable = or_(
            col(MaterialJob.status) == "pending",
            (col(MaterialJob.status) == "running") & (col(MaterialJob.lease_until) < now),
        )
        async with self.db.transaction() as tx:
            found = await tx.exec(
                select(MaterialJob).where(claimable).order_by(col(MaterialJob.id))
            )
            job = found.first()
            if job is None:
                return None
            lease = now + timedelta(seconds=self.settings.materials_job_lease_seconds)
            taken = await tx.exec(
                update(MaterialJob)
                .where(col(MaterialJob.id) == job.id, claimable)
                .values(status="running", lease_until=lease, attempts=MaterialJob.attempts + 1)
            )
            if taken.rowcount != 1:
                return None
            job.attempts += 1
            return job

    async def run(self, job: MaterialJob) -> None:
        async with self.db.transaction() as tx:
            upload = await tx.get(MaterialUpload, job.upload_id)
            collection = await tx.get(MaterialCollection, upload.collection_id) if upload else None
        if upload is None or collection is None:
            await self._finish(job, None, None)
            return
        if job.attempts > MAX_ATTEMPTS:
            await self._finish(job, upload, ErrorCode.internal_error.value)
            return
        with tempfile.TemporaryDirectory(prefix="twinspace-material-") as folder:
            work = Path(folder)
            source = work / "source"
            await write_local(uploads.read_parts(self.store, upload), source)
            try:
                done = await asyncio.to_thread(
                    processing.process, source, CollectionKind(collection.kind), work, self.limits
                )
            except AppError as refused:
                await self._finish(job, upload, refused.code.value)
                return
            except Exception as exc:
                # A decoder choking on crafted bytes: the upload is refused, the node goes on.
                log.warning("upload %s refused by its decoder: %r", upload.id, exc)
                await self._finish(job, upload, ErrorCode.media_invalid.value)
                return
            digests: dict[str, str] = {}
            stored = 0
            for role, path in done.variants.items():
                digest, size = await put_content(
                    self.store, upload.project_id, path, self.settings.materials_chunk_bytes
                )
                digests[role] = digest
                stored += size
        material = Material(
            project_id=upload.project_id,
            collection_id=upload.collection_id,
            uploader_id=upload.user_id,
            kind=done.kind.value,
            title=upload.title,
            description=upload.description,
            filename=upload.filename,
            mime=done.mime,
            size=upload.length,
            stored_bytes=stored,
            width=done.width,
            height=done.height,
            duration=done.duration,
            blobs=digests,
            status="pending" if upload.needs_review else "approved",
            declaration=upload.declaration,
        )
        await self._finish(job, upload, None, material)

    async def _finish(
        self,
        job: MaterialJob,
        upload: MaterialUpload | None,
        error: str | None,
        material: Material | None = None,
    ) -> None:
        """One transaction: the material, its pushes, the upload's outcome, the job done."""
        changes: list[Change] = []
        async with self.db.transaction() as tx:
            row = await tx.get(MaterialJob, job.id)
            if row is None or row.status != "running":
                return
            row.status = "failed" if error else "done"
            tx.add(row)
            if upload is not None:
                fresh = await tx.get(MaterialUpload, upload.id)
                if fresh is not None:
                    if material is not None:
                        tx.add(material)
                        await tx.flush()
                        kind = "materials.material.created"
                        changes = await library.changed(tx, material, kind, False)
                        fresh.material_id = material.id
                    fresh.status = "failed" if error else "done"
                    fresh.error = error
                    tx.add(fresh)
        if upload is not None:
            await self.store.delete_prefix(parts_prefix(upload.id))
        for change in changes:
            await self.publish(upload.project_id if upload else 0, change.event())

    async def _sweep(self) -> None:
        """Deletes expired uploads and their parts, a few times per expiry period."""
        every = min(300.0, self.settings.materials_upload_expiry_seconds / 4)
        while not self._stopping.is_set():
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sweeping expired uploads failed")
            await background.rest(self._stopping, every)

    async def sweep(self) -> list[str]:
        async with self.db.transaction() as tx:
            gone = await uploads.expired(tx, utcnow())
        for upload_id in gone:
            await self.store.delete_prefix(parts_prefix(upload_id))
        return gone
