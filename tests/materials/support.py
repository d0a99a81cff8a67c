"""A small tus client over real HTTP (what tus-js-client does), fixtures made in the test
(photos with GPS EXIF, videos with a location atom), and waiting for processing."""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from tests.support.live import Live
from tests.support.room import Room, make_room
from tests.support.waiting import eventually_async

TUS = {"Tus-Resumable": "1.0.0"}
DECLARATION = "I made this or may share it"


def metadata(**fields: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in fields.items())


async def create(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    project_id: int,
    collection_id: int,
    length: int,
    filename: str = "photo.jpg",
    **extra: str,
) -> httpx.Response:
    fields = {"collection_id": str(collection_id), "filename": filename, "declaration": DECLARATION}
    fields.update(extra)
    return await http.post(
        f"/api/projects/{project_id}/uploads",
        headers=headers
        | TUS
        | {"Upload-Length": str(length), "Upload-Metadata": metadata(**fields)},
    )


async def patch(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    location: str,
    offset: int,
    body: bytes | AsyncIterator[bytes],
) -> httpx.Response:
    return await http.patch(
        location,
        content=body,
        headers=headers
        | TUS
        | {"Upload-Offset": str(offset), "Content-Type": "application/offset+octet-stream"},
    )


async def upload(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    project_id: int,
    collection_id: int,
    data: bytes,
    filename: str = "photo.jpg",
    **extra: str,
) -> str:
    """Creates and sends the whole upload; returns its location."""
    created = await create(http, headers, project_id, collection_id, len(data), filename, **extra)
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    sent = await patch(http, headers, location, 0, data)
    assert sent.status_code == 204, sent.text
    assert sent.headers["Upload-Offset"] == str(len(data))
    return location


async def processed(
    http: httpx.AsyncClient, headers: dict[str, str], location: str
) -> dict[str, Any]:
    """Waits for the job to finish; the upload's status (`done` or `failed`)."""
    found: dict[str, Any] = {}

    async def finished() -> bool:
        answer = await http.get(f"{location}/status", headers=headers)
        assert answer.status_code == 200, answer.text
        found.update(answer.json())
        return found["status"] in ("done", "failed")

    await eventually_async(finished)
    return found


async def uploaded(
    http: httpx.AsyncClient,
    headers: dict[str, str],
    project_id: int,
    collection: int,
    data: bytes,
    name: str,
) -> dict[str, Any]:
    """Uploads a file and waits for its processing: its final status (`processed`)."""
    location = await upload(http, headers, project_id, collection, data, name)
    return await processed(http, headers, location)


async def make_collection(
    http: httpx.AsyncClient, headers: dict[str, str], project_id: int, kind: str, **extra: Any
) -> int:
    made = await http.post(
        f"/api/projects/{project_id}/materials/collections",
        json={"kind": kind, "title": f"My {kind}"} | extra,
        headers=headers,
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"])


def gps_photo(size: tuple[int, int] = (64, 32), orientation: int = 6, fmt: str = "JPEG") -> bytes:
    """A phone photo: GPS position, camera make, a comment, and an EXIF orientation."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.putpixel((0, 0), (0, 0, 255))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = (Fraction(48), Fraction(51), Fraction(29))
    gps[3] = "E"
    gps[4] = (Fraction(2), Fraction(17), Fraction(40))
    out = io.BytesIO()
    if fmt == "PNG":
        from PIL.PngImagePlugin import PngInfo

        info = PngInfo()
        info.add_text("Comment", "home of the pupil")
        image.save(out, "PNG", exif=exif, pnginfo=info)
    else:
        image.save(out, "JPEG", exif=exif, comment=b"home of the pupil")
    return out.getvalue()


def located_video(path: Path, seconds: float = 1.0, location: str = "+48.8577+002.2950/") -> bytes:
    """An MP4 (H.264) carrying a QuickTime location atom, as phones write it."""
    import av

    fps = 10
    with av.open(str(path), "w", format="mp4", options={"movflags": "use_metadata_tags"}) as out:
        out.metadata["location"] = location
        out.metadata["title"] = "at home"
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for index in range(int(seconds * fps)):
            image = Image.new("RGB", (64, 48), (index * 20 % 255, 100, 50))
            frame = av.VideoFrame.from_image(image)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path.read_bytes()


async def image(live: Live, room: Room, role: str = "teacher") -> int:
    """An image `role` uploads into a new album, processed: its material id."""
    headers = room.headers[role]
    album = await make_collection(live.http, room.headers["teacher"], room.project_id, "album")
    done = await uploaded(
        live.http, headers, room.project_id, album, gps_photo((300, 200)), "home.jpg"
    )
    assert done["status"] == "done", done
    return int(done["material_id"])


async def images_here_and_elsewhere(live: Live, room: Room) -> tuple[int, int, int, Room]:
    """Two approved images of `room` and one of another project (which embeds and attachments
    must refuse or hide), with that other room."""
    other = await make_room(live.http, live.services, "o")
    return await image(live, room), await image(live, room), await image(live, other), other
