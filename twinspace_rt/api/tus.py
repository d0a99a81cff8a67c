"""tus 1.0 over HTTP: core, creation, termination and expiration, on plain Starlette routes.

No maintained tus server fits Starlette (the Python ones are Flask, Django or FastAPI add-ons
that buffer chunks or keep state on one node's disk), so this implements the protocol's core
faithfully (tus.io/protocols/resumable-upload) over `materials/uploads.py`, whose state is in
the database and bytes in the shared blob store. Stock clients (tus-js-client, Uppy) send the
bearer token as a header. Errors carry the usual JSON body and the ``Tus-Resumable`` header.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from email.utils import format_datetime

from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from twinspace_rt import observability
from twinspace_rt.api.http import Endpoint, Handler, error_response, in_room, services
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.auth.policy import Action
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.materials import uploads
from twinspace_rt.materials.blobs import parts_prefix
from twinspace_rt.materials.kinds import CollectionKind, declared_max
from twinspace_rt.storage.material_models import MaterialUpload

VERSION = "1.0.0"
EXTENSIONS = "creation,termination,expiration"
UPLOADS = f"{PROJECT}/uploads"
UPLOAD = f"{UPLOADS}/{{upload_id}}"
WRITE_ERRORS = ROOM_ERRORS + (ErrorCode.read_only, ErrorCode.validation_failed)


def _tus(handler: Handler) -> Handler:
    """Refusals on tus routes also carry ``Tus-Resumable``, as the protocol asks of every
    response; the body is the usual error body."""

    async def answer(request: Request) -> Response:
        try:
            return await handler(request)
        except AppError as refused:
            observability.refused("http", refused.code)
            response = error_response(refused)
            response.headers["Tus-Resumable"] = VERSION
            return response

    return answer


def _tus_headers(upload: MaterialUpload | None = None) -> dict[str, str]:
    headers = {"Tus-Resumable": VERSION, "Cache-Control": "no-store"}
    if upload is not None:
        headers["Upload-Offset"] = str(upload.offset)
        headers["Upload-Length"] = str(upload.length)
        headers["Upload-Expires"] = format_datetime(upload.expires_at, usegmt=True)
    return headers


def _check_version(request: Request) -> None:
    if request.headers.get("Tus-Resumable") != VERSION:
        raise AppError(
            ErrorCode.validation_failed, f"Send `Tus-Resumable: {VERSION}` (the only version)."
        )


def _header_int(request: Request, name: str) -> int:
    raw = request.headers.get(name, "")
    if not raw.isdigit() or len(raw) > 18:
        raise AppError(ErrorCode.validation_failed, f"`{name}` must be a non-negative integer.")
    return int(raw)


def parse_metadata(raw: str) -> dict[str, str]:
    """``Upload-Metadata``: comma-separated ``key base64value`` pairs, keys unique."""
    found: dict[str, str] = {}
    for pair in filter(None, (p.strip() for p in raw.split(","))):
        key, _, value = pair.partition(" ")
        if not key.isascii() or not key.isprintable() or key in found or " " in value:
            raise AppError(ErrorCode.validation_failed, "Malformed `Upload-Metadata`.")
        try:
            found[key] = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise AppError(
                ErrorCode.validation_failed, f"`Upload-Metadata` {key}: not base64 UTF-8."
            ) from exc
    return found


async def options(request: Request) -> Response:
    settings = services(request).settings
    largest = declared_max(settings, CollectionKind.folder)
    return Response(
        status_code=204,
        headers={
            "Tus-Resumable": VERSION,
            "Tus-Version": VERSION,
            "Tus-Extension": EXTENSIONS,
            "Tus-Max-Size": str(largest),
        },
    )


async def create(request: Request) -> Response:
    _check_version(request)
    if "Upload-Defer-Length" in request.headers:
        raise AppError(ErrorCode.validation_failed, "Declare `Upload-Length` up front.")
    length = _header_int(request, "Upload-Length")
    meta = parse_metadata(request.headers.get("Upload-Metadata", ""))
    settings = services(request).settings
    async with in_room(request, Action.materials_upload) as (tx, _, member):
        upload = await uploads.create(tx, member, settings, length, meta)
    location = f"/api/projects/{member.project_id}/uploads/{upload.id}"
    headers = _tus_headers(upload) | {"Location": location}
    return Response(status_code=201, headers=headers)


async def head(request: Request) -> Response:
    async with in_room(request) as (tx, _, member):
        upload = await uploads.find(tx, member, request.path_params["upload_id"])
    return Response(status_code=200, headers=_tus_headers(upload))


async def patch(request: Request) -> Response:
    _check_version(request)
    if request.headers.get("Content-Type") != "application/offset+octet-stream":
        raise AppError(
            ErrorCode.unsupported_type, "PATCH bodies are `application/offset+octet-stream`."
        )
    offset = _header_int(request, "Upload-Offset")
    node = services(request)
    async with in_room(request, Action.materials_upload) as (_, _, member):
        pass
    body = _Body(request)
    upload = await uploads.append(
        node.db,
        node.materials.store,
        node.settings,
        member,
        request.path_params["upload_id"],
        offset,
        aiter(body),
    )
    if body.cut:
        # What arrived is stored; nobody is left to answer.
        return Response(status_code=400)
    if upload.status == "complete":
        node.materials.jobs.wake()
    return Response(status_code=204, headers=_tus_headers(upload))


class _Body:
    """The request body, ending normally when the client goes away (a closed laptop lid):
    the upload then keeps every byte that arrived, and `cut` says why it ended."""

    def __init__(self, request: Request) -> None:
        self.request = request
        self.cut = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.request.stream():
                if chunk:
                    yield chunk
        except ClientDisconnect:
            self.cut = True


async def terminate(request: Request) -> Response:
    _check_version(request)
    upload_id = request.path_params["upload_id"]
    async with in_room(request, Action.materials_upload) as (tx, _, member):
        await uploads.terminate(tx, member, upload_id)
    await services(request).materials.store.delete_prefix(parts_prefix(upload_id))
    return Response(status_code=204, headers={"Tus-Resumable": VERSION})


async def status(request: Request) -> Response:
    """Not tus: where a finished upload went (processing, done with its material, failed)."""
    async with in_room(request) as (tx, _, member):
        upload = await uploads.find(tx, member, request.path_params["upload_id"])
    return JSONResponse(
        {
            "id": upload.id,
            "status": upload.status,
            "offset": upload.offset,
            "length": upload.length,
            "error": upload.error,
            "material_id": upload.material_id,
        }
    )


ENDPOINTS = [
    Endpoint(
        "OPTIONS",
        UPLOADS,
        _tus(options),
        "tus: the protocol version, extensions, largest upload.",
        public=True,
    ),
    Endpoint(
        "POST",
        UPLOADS,
        _tus(create),
        "tus creation: `Upload-Length` and `Upload-Metadata` (`collection_id`, `filename`, "
        "`declaration`, optional `title`, `description`; values base64). 201 with `Location`.",
        status=201,
        errors=WRITE_ERRORS + (ErrorCode.payload_too_large, ErrorCode.quota_exceeded),
    ),
    Endpoint(
        "HEAD",
        UPLOAD,
        _tus(head),
        "tus: the upload's `Upload-Offset` and `Upload-Length` (the uploader's own only).",
        errors=ROOM_ERRORS + (ErrorCode.upload_expired,),
    ),
    Endpoint(
        "PATCH",
        UPLOAD,
        _tus(patch),
        "tus: append the body at `Upload-Offset`; 204 with the new offset.",
        status=204,
        raw_body="application/offset+octet-stream",
        errors=WRITE_ERRORS
        + (
            ErrorCode.offset_mismatch,
            ErrorCode.upload_busy,
            ErrorCode.upload_expired,
            ErrorCode.payload_too_large,
            ErrorCode.unsupported_type,
        ),
    ),
    Endpoint(
        "DELETE",
        UPLOAD,
        _tus(terminate),
        "tus termination: drop an unfinished upload.",
        status=204,
        errors=WRITE_ERRORS + (ErrorCode.conflict,),
    ),
    Endpoint(
        "GET",
        f"{UPLOAD}/status",
        status,
        "Where a finished upload went: `processing`, `done` (with `material_id`) or `failed` "
        "(with the error code).",
        errors=ROOM_ERRORS + (ErrorCode.upload_expired,),
    ),
]
