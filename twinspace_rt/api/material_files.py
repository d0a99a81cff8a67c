"""A material's bytes: served to members who may see it, by bearer token or by a short-lived
signed link (`materials/links.py`) for the browser's ``<img>`` and ``<video>``.

Range (206) so a video seeks, ETag (the content digest) and private caching, and the security
headers every response carries (`nosniff`, a sandboxing CSP); files are always downloads.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from twinspace_rt.api.http import Endpoint, in_room, services
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.auth.policy import Action, Member
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.materials import library, links
from twinspace_rt.materials.blobs import content_key
from twinspace_rt.projects import membership
from twinspace_rt.storage.models import User

M = f"{PROJECT}/materials/{{material_id:int}}"


@asynccontextmanager
async def _reader(request: Request) -> AsyncIterator[tuple[AsyncSession, Member]]:
    """The member behind a bearer token, or behind a signed link (checked again now)."""
    if "signature" not in request.query_params:
        async with in_room(request, Action.materials_read) as (tx, _, member):
            yield tx, member
        return
    node = services(request)
    project_id = int(request.path_params["project_id"])
    user_id = links.verify(
        node.settings.signing_key,
        project_id,
        int(request.path_params["material_id"]),
        request.path_params["variant"],
        dict(request.query_params),
    )
    async with node.db.transaction() as tx:
        user = await tx.get(User, user_id)
        if user is None:
            raise AppError(ErrorCode.token_invalid)
        _, member = await membership.enter(tx, user, project_id, Action.materials_read)
        yield tx, member


async def signed_links(request: Request) -> Response:
    """Links to every variant of a material, valid for ``TWINSPACE_MATERIALS_LINK_SECONDS``."""
    node = services(request)
    seconds = node.settings.materials_link_seconds
    async with in_room(request, Action.materials_read) as (tx, _, member):
        material = await library.material_for(tx, member, int(request.path_params["material_id"]))
    assert material.id is not None
    base = f"/api/projects/{member.project_id}/materials/{material.id}"
    found = {
        variant: f"{base}/{variant}?"
        + links.sign(
            node.settings.signing_key,
            member.project_id,
            material.id,
            variant,
            member.user_id,
            seconds,
        )
        for variant in sorted(material.blobs)
    }
    return JSONResponse({"expires_in": seconds, "variants": found})


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# The bytes behind a digest never change; access can, so caches stay private and revalidate.
CACHE = "private, max-age=3600"


async def download(request: Request) -> Response:
    """A variant of a material, to members who may see it: Range (206), ETag, and for files
    (and anything not an image, video or audio) always a download."""
    variant = request.path_params["variant"]
    async with _reader(request) as (tx, member):
        material = await library.material_for(tx, member, int(request.path_params["material_id"]))
    digest = material.blobs.get(variant)
    if digest is None:
        raise AppError(ErrorCode.not_found, f"This material has no `{variant}`.")
    store = services(request).materials.store
    key = content_key(material.project_id, digest)
    size = await store.size(key)
    if size is None:
        raise AppError(ErrorCode.not_found, "The material's bytes are gone.")
    etag = f'"{digest}"'
    headers = {"ETag": etag, "Cache-Control": CACHE, "Accept-Ranges": "bytes"}
    mime = material.mime if variant in ("display", "media", "file") else "image/jpeg"
    if variant in ("small", "large", "display") and material.mime == "image/png":
        mime = "image/png"
    disposition = "attachment" if material.kind == "file" else "inline"
    headers["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(material.filename)}"
    if request.headers.get("If-None-Match") == etag:
        return Response(status_code=304, headers=headers)
    start, end, status = 0, size, 200
    wanted = request.headers.get("Range")
    if wanted and request.headers.get("If-Range", etag) == etag:
        found = _RANGE.match(wanted.strip())
        first, last = (found.group(1), found.group(2)) if found else ("", "")
        if found and (first or last):
            if first:
                start, end = int(first), min(size, int(last) + 1) if last else size
            else:
                start, end = max(0, size - int(last)), size
            if start >= size or start >= end:
                return Response(
                    status_code=416, headers=headers | {"Content-Range": f"bytes */{size}"}
                )
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    headers["Content-Length"] = str(end - start)

    async def body() -> AsyncIterator[bytes]:
        async for chunk in store.read(key, start, end):
            yield chunk

    return StreamingResponse(body(), status_code=status, media_type=mime, headers=headers)


ENDPOINTS = [
    Endpoint(
        "GET",
        f"{M}/links",
        signed_links,
        "Short-lived signed links to each variant, for `<img>` and `<video>` (which cannot send "
        "`Authorization`); following one checks membership and visibility again.",
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "GET",
        f"{M}/{{variant}}",
        download,
        "A material's bytes: `display`, `small`, `large` (images), `media`, `poster` (video, "
        "audio), `file`. Bearer token or a signed link's `user`, `expires`, `signature`. "
        "Range, ETag.",
        errors=ROOM_ERRORS + (ErrorCode.token_invalid, ErrorCode.token_expired),
        text_query={"user": "signed link", "expires": "signed link", "signature": "signed link"},
    ),
]
