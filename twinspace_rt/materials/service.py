"""What a node holds for materials: its blob store and its processing workers."""

from __future__ import annotations

from twinspace_rt.hub.hub import Hub
from twinspace_rt.materials import library
from twinspace_rt.materials.blobs import BlobStore, create_store, parts_prefix, project_prefix
from twinspace_rt.materials.jobs import JobRunner
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database


class Materials:
    def __init__(self, settings: Settings, db: Database, hub: Hub) -> None:
        self.settings = settings
        self.db = db
        self.store: BlobStore = create_store(settings)
        self.jobs = JobRunner(settings, db, self.store, hub.publish)
        hub.features.on_start.append(self.start)
        hub.features.on_stop.append(self.stop)

    async def start(self) -> None:
        await self.store.start()
        self.jobs.start()

    async def stop(self) -> None:
        await self.jobs.stop()
        await self.store.close()

    async def purge(self, project_id: int) -> None:
        """A closed or deleted project's materials: rows, then every blob and upload part."""
        async with self.db.transaction() as tx:
            upload_ids = await library.purge(tx, project_id)
        for upload_id in upload_ids:
            await self.store.delete_prefix(parts_prefix(upload_id))
        await self.store.delete_prefix(project_prefix(project_id))
