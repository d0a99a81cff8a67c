"""Uploads end to end on a real server: tus with a real HTTP client, processing by the job
queue, what comes back. Images and videos lose every metadata block; a cut upload resumes."""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import AsyncIterator
from pathlib import Path

import av
import httpx
from PIL import Image

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
from tests.support.live import Live
from tests.support.room import Room

MB = 1000 * 1000


async def _material(live: Live, room: Room, who: str, material_id: int) -> dict:
    overview = await live.http.get(
        f"/api/projects/{room.project_id}/materials", headers=room.headers[who]
    )
    assert overview.status_code == 200, overview.text
    for collection in overview.json()["collections"]:
        for material in collection["materials"]:
            if material["id"] == material_id:
                return material
    raise AssertionError(f"material {material_id} not listed for {who}")


async def test_a_photo_with_gps_exif_comes_back_upright_with_no_metadata(
    live: Live, room: Room
) -> None:
    teacher = room.headers["teacher"]
    album = await make_collection(live.http, teacher, room.project_id, "album")
    for fmt in ("JPEG", "PNG"):
        location = await upload(
            live.http, teacher, room.project_id, album, gps_photo(fmt=fmt), f"p.{fmt.lower()}"
        )
        done = await processed(live.http, teacher, location)
        assert done["status"] == "done", done
        material = await _material(live, room, "pupil", done["material_id"])
        assert material["kind"] == "image" and material["status"] == "approved"
        assert sorted(material["variants"]) == ["display", "large", "small"]
        base = f"/api/projects/{room.project_id}/materials/{done['material_id']}"
        for variant in ("display", "large", "small"):
            served = await live.http.get(f"{base}/{variant}", headers=room.headers["pupil"])
            assert served.status_code == 200
            image = Image.open(io.BytesIO(served.content))
            assert dict(image.getexif()) == {}
            assert not {
                "exif",
                "comment",
                "Comment",
                "icc_profile",
                "xmp",
                "XML:com.adobe.xmp",
            } & set(image.info)
            assert (
                b"PhoneMaker" not in served.content and b"home of the pupil" not in served.content
            )
        display = Image.open(
            io.BytesIO((await live.http.get(f"{base}/display", headers=teacher)).content)
        )
        # Orientation 6 (rotate 90° clockwise): the 64×32 sensor image is shown 32×64.
        assert display.size == (32, 64)
        assert (await live.http.get(f"{base}/original", headers=teacher)).status_code == 404


async def test_a_cut_upload_resumes_to_a_byte_identical_file(live: Live, room: Room) -> None:
    teacher = room.headers["teacher"]
    folder = await make_collection(live.http, teacher, room.project_id, "folder")
    data = b"%PDF-1.4\n" + os.urandom(12 * MB)
    created = await create(live.http, teacher, room.project_id, folder, len(data), "big.pdf")
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    cut_at = int(len(data) * 0.4)

    async def cut() -> AsyncIterator[bytes]:
        for start in range(0, cut_at, 256 * 1024):
            yield data[start : min(start + 256 * 1024, cut_at)]
        raise ConnectionResetError("the laptop lid closed")

    try:
        await patch(live.http, teacher, location, 0, cut())
    except (httpx.HTTPError, ConnectionResetError):
        pass

    async def stands() -> int:
        head = await live.http.head(location, headers=teacher | TUS)
        assert head.status_code == 200
        assert head.headers["Upload-Length"] == str(len(data))
        return int(head.headers["Upload-Offset"])

    from tests.support.waiting import eventually_async

    # The server notices the cut and stores what arrived; its lock is released then.
    kept: list[int] = []

    async def settled() -> bool:
        kept.append(await stands())
        probe = await patch(live.http, teacher, location, kept[-1], b"")
        return probe.status_code == 204

    await eventually_async(settled)
    offset = kept[-1]
    assert 0 < offset <= cut_at
    resumed = await patch(live.http, teacher, location, offset, data[offset:])
    assert resumed.status_code == 204, resumed.text
    done = await processed(live.http, teacher, location)
    assert done["status"] == "done", done
    served = await live.http.get(
        f"/api/projects/{room.project_id}/materials/{done['material_id']}/file", headers=teacher
    )
    assert served.status_code == 200
    assert hashlib.sha256(served.content).hexdigest() == hashlib.sha256(data).hexdigest()
    assert served.headers["content-disposition"].startswith("attachment;")
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    # The parts are gone once the material exists.
    assert await live.services.materials.store.keys("parts/") == []


async def test_a_video_with_a_location_atom_comes_back_without_it(
    live: Live, room: Room, tmp_path: Path
) -> None:
    teacher = room.headers["teacher"]
    folder = await make_collection(live.http, teacher, room.project_id, "folder")
    data = located_video(tmp_path / "v.mp4", seconds=2)
    assert b"48.8577" in data
    location = await upload(live.http, teacher, room.project_id, folder, data, "trip.mov")
    done = await processed(live.http, teacher, location)
    assert done["status"] == "done", done
    material = await _material(live, room, "observer", done["material_id"])
    # The clip is 2 s long: a property of the file PyAV reads, not time on a clock.
    assert material["kind"] == "video" and round(material["duration"]) == 2
    assert sorted(material["variants"]) == ["media", "poster"]
    base = f"/api/projects/{room.project_id}/materials/{done['material_id']}"
    served = await live.http.get(f"{base}/media", headers=teacher)
    assert served.status_code == 200 and served.headers["content-type"] == "video/mp4"
    assert b"48.8577" not in served.content and b"at home" not in served.content
    (tmp_path / "served.mp4").write_bytes(served.content)
    with av.open(str(tmp_path / "served.mp4")) as container:
        assert not {k for k in container.metadata if "location" in k or k == "title"}
        assert container.streams.video[0].codec_context.name == "h264"
        packets = sum(1 for p in container.demux(container.streams.video[0]) if p.size)
    assert packets == 20  # remuxed, every frame kept
    poster = await live.http.get(f"{base}/poster", headers=teacher)
    assert Image.open(io.BytesIO(poster.content)).format == "JPEG"
    # Range requests, so a player can seek; an ETag that revalidates.
    part = await live.http.get(f"{base}/media", headers=teacher | {"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == served.content[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(served.content)}"
    again = await live.http.get(
        f"{base}/media", headers=teacher | {"If-None-Match": served.headers["etag"]}
    )
    assert again.status_code == 304
