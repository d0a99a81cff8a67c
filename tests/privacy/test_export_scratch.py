"""Where an export's archive may linger, and does not: a node's scratch folder (what a build
killed mid-way, or an export kept there before exports moved to the blob store, left is swept
when the node starts; a file a live build is writing is not), and the blob store (an archive
whose member was erased while it was built is dropped)."""

from __future__ import annotations

import os
import time

from sqlalchemy import delete

from tests.support.live import serve
from tests.support.room import make_room
from twinspace_rt.privacy.jobs import PrivacyJobs
from twinspace_rt.privacy.requests import EXPORT
from twinspace_rt.settings import Settings
from twinspace_rt.storage.privacy_models import PrivacyJob


async def test_a_starting_node_sweeps_stale_archives_only(settings: Settings) -> None:
    scratch = settings.data_dir / "exports"
    scratch.mkdir(parents=True)
    stale = scratch / "export-1-dead.zip.part"
    kept_before = scratch / "export-2-old.zip"
    live_build = scratch / "export-3-live.zip.part"
    for path in (stale, kept_before, live_build):
        path.write_bytes(b"PK")
    long_ago = time.time() - 2 * settings.privacy_job_lease_seconds
    for path in (stale, kept_before):
        os.utime(path, (long_ago, long_ago))
    async with serve(settings):
        assert sorted(p.name for p in scratch.iterdir()) == [live_build.name]


class ErasedMeanwhile(PrivacyJobs):
    """A worker whose job row is deleted after its first batch, as an erasure of the export's
    member (committed on another node) deletes it."""

    async def _renew(self, job_id: int, step: int | None = None) -> None:
        async with self.db.transaction() as tx:
            await (await tx.connection()).execute(
                delete(PrivacyJob.__table__).where(PrivacyJob.__table__.c.id == job_id)  # type: ignore[attr-defined]
            )


async def test_an_export_whose_member_was_erased_meanwhile_is_not_kept(
    settings: Settings,
) -> None:
    async with serve(settings.model_copy(update={"privacy_poll_seconds": 600})) as live:
        room = await make_room(live.http, live.services)
        async with live.services.db.transaction() as tx:
            job = PrivacyJob(
                kind=EXPORT,
                project_id=room.project_id,
                subject_user_id=room.user_ids["pupil"],
                requested_by=room.user_ids["teacher_admin"],
            )
            tx.add(job)
            await tx.flush()
            job_id = job.id
        assert job_id is not None
        node = live.services
        worker = ErasedMeanwhile(node.settings, node.db, node.broker, node.privacy.store)
        node.settings.data_dir.joinpath("exports").mkdir(parents=True, exist_ok=True)
        await worker.run(job_id)
        assert await node.privacy.store.keys("exports/") == []
