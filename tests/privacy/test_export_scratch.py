"""A node's export scratch folder: what a build killed mid-way (or an export kept there before
exports moved to the blob store) left is swept when the node starts; a file a live build is
writing (touched within a lease) is not."""

from __future__ import annotations

import os
import time

from tests.support.live import serve
from twinspace_rt.settings import Settings


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
