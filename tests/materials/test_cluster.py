"""Two nodes sharing PostgreSQL, Redis and a real S3-compatible store (SeaweedFS): an upload
begun on node A is finished on node B, processed by whichever worker claims it, and served by
both; the bytes live only in S3."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import Image
from pydantic import SecretStr

from tests.chat.test_chat import connect
from tests.hub import test_cluster
from tests.materials.support import TUS, create, gps_photo, make_collection, patch, processed
from tests.support.live import Live, serve
from tests.support.room import make_room
from twinspace_rt.settings import Settings

shared_redis = test_cluster.shared_redis
cluster_settings = test_cluster.cluster_settings


@pytest.fixture
async def s3_nodes(
    cluster_settings: Settings, s3_url: str, tmp_path: Path
) -> AsyncIterator[tuple[Live, Live]]:
    shared = cluster_settings.model_copy(
        update={
            "s3_endpoint_url": s3_url,
            "s3_bucket": f"n{uuid.uuid4().hex[:12]}",
            "s3_access_key": "any",
            "s3_secret_key": SecretStr("any"),
            "materials_chunk_bytes": 5 * 1024 * 1024,
        }
    )
    a_settings = shared.model_copy(update={"data_dir": tmp_path / "a"})
    b_settings = shared.model_copy(update={"data_dir": tmp_path / "b"})
    async with serve(a_settings) as a, serve(b_settings) as b:
        yield a, b


async def test_an_upload_begun_on_one_node_is_finished_on_the_other(
    s3_nodes: tuple[Live, Live],
) -> None:
    a, b = s3_nodes
    for node in (a, b):
        ready = await node.http.get("/readyz")
        assert ready.json()["checks"]["blob_store"] == "ok", ready.text
    room = await make_room(a.http, a.services, "s3")
    teacher = room.headers["teacher"]
    folder = await make_collection(a.http, teacher, room.project_id, "folder")
    album = await make_collection(a.http, teacher, room.project_id, "album")
    watcher = await connect(b, room, "pupil")
    await watcher.ok("materials.subscribe", streams={"materials": 0})

    data = b"%PDF-1.7\n" + os.urandom(7 * 1000 * 1000)
    created = await create(a.http, teacher, room.project_id, folder, len(data), "report.pdf")
    location = created.headers["Location"]
    half = len(data) // 2
    assert (await patch(a.http, teacher, location, 0, data[:half])).status_code == 204
    head = await b.http.head(location, headers=teacher | TUS)
    assert head.headers["Upload-Offset"] == str(half)
    assert (await patch(b.http, teacher, location, half, data[half:])).status_code == 204
    done = await processed(a.http, teacher, location)
    assert done["status"] == "done", done
    pushed = await watcher.wait_for("materials.material.created")
    assert pushed[0]["material"]["id"] == done["material_id"]
    path = f"/api/projects/{room.project_id}/materials/{done['material_id']}/file"
    for node in (a, b):
        served = await node.http.get(path, headers=room.headers["pupil"])
        assert served.status_code == 200
        assert hashlib.sha256(served.content).digest() == hashlib.sha256(data).digest()
        ranged = await node.http.get(path, headers=room.headers["pupil"] | {"Range": "bytes=-100"})
        assert ranged.status_code == 206 and ranged.content == data[-100:]

    photo = await create(b.http, teacher, room.project_id, album, len(raw := gps_photo()), "p.jpg")
    assert (await patch(a.http, teacher, photo.headers["Location"], 0, raw)).status_code == 204
    image = await processed(b.http, teacher, photo.headers["Location"])
    small = await a.http.get(
        f"/api/projects/{room.project_id}/materials/{image['material_id']}/small", headers=teacher
    )
    assert dict(Image.open(io.BytesIO(small.content)).getexif()) == {}

    # Nothing on either node's disk: the bytes are in S3, parts cleaned up.
    store = a.services.materials.store
    # The file, and the photo once: at 64×32 its three variants are the same bytes (dedup).
    assert len(await store.keys(f"projects/{room.project_id}/")) == 2
    assert await store.keys("parts/") == []
    for node in (a, b):
        assert not (node.services.settings.data_dir / "blobs").exists()
