"""Every bad input of issue 15 gets a clear error, and nothing is stored half-way."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import update

from tests.materials.support import (
    TUS,
    create,
    gps_photo,
    located_video,
    make_collection,
    patch,
    processed,
    upload,
)
from tests.support.live import Live, serve
from tests.support.log_capture import recorded
from tests.support.room import Room, make_room
from tests.support.waiting import eventually_async
from twinspace_rt.settings import Settings
from twinspace_rt.storage.material_models import MaterialUpload
from twinspace_rt.storage.models import utcnow

MB = 1000 * 1000


@pytest.fixture(autouse=True)
def no_tracebacks() -> Iterator[None]:
    """Refusals are answers, not crashes: nothing here may log a traceback."""
    with recorded() as log:
        yield
    assert log.tracebacks() == []


async def _nothing_stored(live: Live, room: Room) -> None:
    assert await live.services.materials.store.keys(f"projects/{room.project_id}/") == []
    overview = await live.http.get(
        f"/api/projects/{room.project_id}/materials", headers=room.headers["teacher"]
    )
    assert all(c["materials"] == [] for c in overview.json()["collections"])


async def _refused_after_upload(
    live: Live, room: Room, collection: int, data: bytes, name: str
) -> str:
    location = await upload(
        live.http, room.headers["teacher"], room.project_id, collection, data, name
    )
    done = await processed(live.http, room.headers["teacher"], location)
    assert done["status"] == "failed" and done["material_id"] is None
    assert await live.services.materials.store.keys("parts/") == []
    return str(done["error"])


async def test_content_that_is_not_what_the_name_says_is_refused(live: Live, room: Room) -> None:
    album = await make_collection(live.http, room.headers["teacher"], room.project_id, "album")
    folder = await make_collection(live.http, room.headers["teacher"], room.project_id, "folder")
    html = b"<!doctype html><script>alert(1)</script>"
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    elf = b"\x7fELF\x02\x01\x01" + os.urandom(100)
    assert await _refused_after_upload(live, room, album, html, "cat.jpg") == "unsupported_type"
    assert await _refused_after_upload(live, room, album, svg, "cat.jpg") == "unsupported_type"
    assert await _refused_after_upload(live, room, folder, html, "notes.pdf") == "unsupported_type"
    assert await _refused_after_upload(live, room, folder, elf, "game.pdf") == "unsupported_type"
    # An image belongs in an album: in a folder it would be served with its metadata.
    assert (
        await _refused_after_upload(live, room, folder, gps_photo(), "p.jpg") == "unsupported_type"
    )
    await _nothing_stored(live, room)


async def test_damaged_and_oversized_media_are_refused(
    live: Live, room: Room, tmp_path: Path
) -> None:
    album = await make_collection(live.http, room.headers["teacher"], room.project_id, "album")
    folder = await make_collection(live.http, room.headers["teacher"], room.project_id, "folder")
    photo = gps_photo((400, 300))
    assert (
        await _refused_after_upload(live, room, album, photo[: len(photo) // 2], "half.jpg")
        == "media_invalid"
    )
    # A decompression bomb: 100 megapixels of one colour, a few hundred KB as PNG.
    bomb = io.BytesIO()
    Image.new("L", (10_000, 10_000)).save(bomb, "PNG", optimize=True)
    assert len(bomb.getvalue()) < 10 * MB
    assert (
        await _refused_after_upload(live, room, album, bomb.getvalue(), "bomb.png")
        == "media_invalid"
    )
    video = located_video(tmp_path / "v.mp4", seconds=2)
    cut = video[: len(video) * 2 // 3]
    assert await _refused_after_upload(live, room, folder, cut, "cut.mp4") == "media_invalid"
    await _nothing_stored(live, room)


async def test_a_video_over_the_limit_is_refused(settings: Settings, tmp_path: Path) -> None:
    async with serve(settings.model_copy(update={"materials_media_max_seconds": 1.0})) as live:
        room = await make_room(live.http, live.services, "long")
        folder = await make_collection(
            live.http, room.headers["teacher"], room.project_id, "folder"
        )
        video = located_video(tmp_path / "v.mp4", seconds=3)
        assert await _refused_after_upload(live, room, folder, video, "long.mp4") == "media_invalid"


async def test_limits_are_checked_before_a_byte_is_stored(live: Live, room: Room) -> None:
    teacher = room.headers["teacher"]
    album = await make_collection(live.http, teacher, room.project_id, "album")
    folder = await make_collection(live.http, teacher, room.project_id, "folder")
    too_big = await create(live.http, teacher, room.project_id, album, 10 * MB + 1)
    assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "payload_too_large"
    assert (
        await create(live.http, teacher, room.project_id, folder, 100 * MB + 1)
    ).status_code == 413
    # Declared small, sent large: refused, and the extra bytes are not stored.
    created = await create(live.http, teacher, room.project_id, folder, 1000, "a.pdf")
    location = created.headers["Location"]
    over = await patch(live.http, teacher, location, 0, b"%PDF" + b"x" * 2000)
    assert over.status_code == 413
    head = await live.http.head(location, headers=teacher | TUS)
    assert int(head.headers["Upload-Offset"]) <= 1000


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "a/b.jpg",
        "a\\b.jpg",
        "bad\x00.jpg",
        "line\nbreak.jpg",
        "photo\u202egpj.exe",
        "",
    ],
)
async def test_unsafe_names_are_refused(live: Live, room: Room, name: str) -> None:
    album = await make_collection(live.http, room.headers["teacher"], room.project_id, "album")
    refused = await create(live.http, room.headers["teacher"], room.project_id, album, 100, name)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "validation_failed"


async def test_another_projects_album_is_not_found(live: Live, room: Room) -> None:
    other = await make_room(live.http, live.services, "other")
    theirs = await make_collection(live.http, other.headers["teacher"], other.project_id, "album")
    refused = await create(live.http, room.headers["teacher"], room.project_id, theirs, 100)
    assert refused.status_code == 404


async def test_the_quota_counts_materials_and_unfinished_uploads(settings: Settings) -> None:
    async with serve(settings.model_copy(update={"materials_project_quota_bytes": 5000})) as live:
        room = await make_room(live.http, live.services, "quota")
        teacher = room.headers["teacher"]
        folder = await make_collection(live.http, teacher, room.project_id, "folder")
        assert (
            await create(live.http, teacher, room.project_id, folder, 3000, "a.pdf")
        ).status_code == 201
        refused = await create(live.http, teacher, room.project_id, folder, 3000, "b.pdf")
        assert refused.status_code == 413 and refused.json()["error"]["code"] == "quota_exceeded"


async def test_offsets_concurrent_patches_and_expiry(live: Live, room: Room) -> None:
    teacher = room.headers["teacher"]
    folder = await make_collection(live.http, teacher, room.project_id, "folder")
    data = b"%PDF" + os.urandom(3000)
    location = (
        await create(live.http, teacher, room.project_id, folder, len(data), "a.pdf")
    ).headers["Location"]
    wrong = await patch(live.http, teacher, location, 10, data[10:])
    assert wrong.status_code == 409 and wrong.json()["error"]["code"] == "offset_mismatch"
    assert wrong.headers["Tus-Resumable"] == "1.0.0"

    release = asyncio.Event()

    async def slow() -> AsyncIterator[bytes]:
        yield data[:100]
        await release.wait()
        yield data[100:200]

    first = asyncio.create_task(patch(live.http, teacher, location, 0, slow()))

    upload_id = location.rsplit("/", 1)[1]

    async def locked() -> bool:
        async with live.services.db.transaction() as tx:
            row = await tx.get(MaterialUpload, upload_id)
            return row is not None and row.lock_token is not None

    await eventually_async(locked)
    second = await patch(live.http, teacher, location, 0, data)
    assert second.status_code == 409 and second.json()["error"]["code"] == "upload_busy"
    release.set()
    assert (await first).status_code == 204
    head = await live.http.head(location, headers=teacher | TUS)
    assert head.headers["Upload-Offset"] == "200"
    # Another member cannot see or continue it.
    assert (await live.http.head(location, headers=room.headers["expert"] | TUS)).status_code == 404

    # A day later (the row's expiry moved, as time would): gone, and swept with its parts.
    async with live.services.db.transaction() as tx:
        await tx.exec(
            update(MaterialUpload)
            .where(MaterialUpload.id == upload_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    late = await patch(live.http, teacher, location, 200, data[200:])
    assert late.status_code == 410 and late.json()["error"]["code"] == "upload_expired"
    assert await live.services.materials.jobs.sweep() == [upload_id]
    assert await live.services.materials.store.keys(f"parts/{upload_id}/") == []
    assert (await live.http.head(location, headers=teacher | TUS)).status_code == 404


async def test_termination_drops_the_parts(live: Live, room: Room) -> None:
    teacher = room.headers["teacher"]
    folder = await make_collection(live.http, teacher, room.project_id, "folder")
    location = (await create(live.http, teacher, room.project_id, folder, 5000, "a.pdf")).headers[
        "Location"
    ]
    assert (await patch(live.http, teacher, location, 0, b"%PDF" * 100)).status_code == 204
    gone = await live.http.delete(location, headers=teacher | TUS)
    assert gone.status_code == 204
    assert await live.services.materials.store.keys("parts/") == []
    assert (await live.http.head(location, headers=teacher | TUS)).status_code == 404


async def test_bad_protocol_headers_are_refused_without_a_traceback(live: Live, room: Room) -> None:
    teacher = room.headers["teacher"]
    album = await make_collection(live.http, teacher, room.project_id, "album")
    base = f"/api/projects/{room.project_id}/uploads"
    for _ in range(1):
        no_length = await live.http.post(base, headers=teacher | TUS)
        assert no_length.status_code == 422
        bad_meta = await live.http.post(
            base, headers=teacher | TUS | {"Upload-Length": "10", "Upload-Metadata": "filename ***"}
        )
        assert bad_meta.status_code == 422
        no_version = await live.http.post(base, headers=teacher | {"Upload-Length": "10"})
        assert no_version.status_code == 422
        location = (await create(live.http, teacher, room.project_id, album, 10)).headers[
            "Location"
        ]
        wrong_type = await live.http.patch(
            location, content=b"x", headers=teacher | TUS | {"Upload-Offset": "0"}
        )
        assert wrong_type.status_code == 415
    options = await live.http.options(base)
    assert options.status_code == 204 and options.headers["Tus-Version"] == "1.0.0"
    assert "creation" in options.headers["Tus-Extension"]
