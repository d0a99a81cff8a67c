"""Exports in a cluster: two nodes sharing PostgreSQL, Redis and a real S3-compatible store
(SeaweedFS). An export built by whichever node claims it downloads from either node, no node
keeps it on its disk, and the retention run deletes it once it is older than
``privacy_export_keep_hours``."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

from tests.materials.test_cluster import cluster_settings, s3_nodes, shared_redis
from tests.privacy.test_erase_everywhere import wait_job
from tests.support.live import Live
from tests.support.room import make_room
from twinspace_rt.privacy import retention

__all__ = ["cluster_settings", "s3_nodes", "shared_redis"]


async def nothing() -> None:
    return None


async def test_an_export_downloads_from_either_node_and_expires(
    s3_nodes: tuple[Live, Live], tmp_path: Path
) -> None:
    a, b = s3_nodes
    room = await make_room(a.http, a.services, "x")
    admin = room.headers["teacher_admin"]
    pupil = room.user_ids["pupil"]
    asked = await a.http.post(
        f"/api/projects/{room.project_id}/members/{pupil}/export",
        json={"language": "da"},
        headers=admin,
    )
    assert asked.status_code == 202, asked.text
    job_id = asked.json()["id"]
    done = await wait_job(a, job_id)
    assert done.file_name is not None

    # The link is made on one node and followed on the other, and the other way round.
    links = []
    for made, used in ((a, b), (b, a)):
        job = (await made.http.get(f"/api/privacy/jobs/{job_id}", headers=admin)).json()
        links.append(job["download"])
        got = await used.http.get(job["download"], headers=admin)
        assert got.status_code == 200, got.text
        assert got.headers["content-type"] == "application/zip"
        with zipfile.ZipFile(io.BytesIO(got.content)) as archive:
            users = archive.read("account/users.json").decode()
        assert f'"id": {pupil}' in users
    # Only the store holds it: no node's data folder keeps an archive.
    assert list(tmp_path.rglob("*.zip*")) == []
    assert len(await a.services.privacy.store.keys("exports/")) == 1

    # A day later the retention run deletes it; the job says so, and the old link finds nothing.
    clock = a.services.privacy.clock()
    node = b.services
    early = await retention.run(
        node.db, node.settings, node.privacy.store, "t", clock + timedelta(hours=2), nothing
    )
    assert early.ran and early.removed["exports"] == 0
    later = await retention.run(
        node.db, node.settings, node.privacy.store, "t", clock + timedelta(hours=25), nothing
    )
    assert later.ran and later.removed["exports"] == 1
    assert await a.services.privacy.store.keys("exports/") == []
    job = (await a.http.get(f"/api/privacy/jobs/{job_id}", headers=admin)).json()
    assert job["state"] == "expired" and job["download"] is None
    gone = await b.http.get(links[0], headers=admin)
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
