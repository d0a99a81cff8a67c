"""Materials over REST: albums and folders, the materials in them, the review queue, the
project's setting for pupils' uploads, and the files themselves (uploads: `api/tus.py`).

Every write stores its change with the stream's next seq in the request's transaction and
publishes it after the commit, so sockets subscribed with `materials.subscribe` see it live.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from twinspace_rt.api.http import Endpoint, in_room, read_body, services
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.auth.policy import Action
from twinspace_rt.errors import ErrorCode
from twinspace_rt.materials import library
from twinspace_rt.materials.blobs import content_key
from twinspace_rt.materials.kinds import CollectionKind, PupilUploads, check_text
from twinspace_rt.materials.streams import Change
from twinspace_rt.storage.material_models import TITLE_MAX
from twinspace_rt.storage.models import DESCRIPTION_MAX

BASE = f"{PROJECT}/materials"
WRITE_ERRORS = ROOM_ERRORS + (ErrorCode.read_only, ErrorCode.validation_failed)
Title = Annotated[str, Field(min_length=1, max_length=TITLE_MAX)]
Description = Annotated[str, Field(max_length=DESCRIPTION_MAX)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class CollectionIn(_In):
    kind: CollectionKind
    title: Title
    description: Description = ""
    pupils_may_upload: bool = True


class CollectionPatchIn(_In):
    title: Title | None = None
    description: Description | None = None
    position: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    pupils_may_upload: bool | None = None


class MaterialPatchIn(_In):
    title: Annotated[str, Field(max_length=TITLE_MAX)] | None = None
    description: Description | None = None
    position: Annotated[int, Field(ge=0, le=1_000_000)] | None = None


class SettingsIn(_In):
    pupil_uploads: PupilUploads


class ReviewIn(_In):
    verdict: Literal["approve", "reject"]


class ReportIn(_In):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


def _id(request: Request, name: str) -> int:
    return int(request.path_params[name])


async def _publish(request: Request, project_id: int, changes: Iterable[Change]) -> None:
    for change in changes:
        await services(request).hub.publish(project_id, change.event())


async def overview(request: Request) -> Response:
    async with in_room(request, Action.materials_read) as (tx, _, member):
        setting = await library.pupil_uploads(tx, member.project_id)
        out: list[dict[str, Any]] = []
        for collection in await library.collections(tx, member.project_id):
            listed = await library.materials_in(tx, member, collection)
            out.append(
                library.collection_payload(collection)
                | {"materials": [library.material_payload(m) for m in listed]}
            )
    return JSONResponse({"pupil_uploads": setting.value, "collections": out})


async def create_collection(request: Request) -> Response:
    body = await read_body(request, CollectionIn)
    check_text("description", body.description, DESCRIPTION_MAX)
    async with in_room(request, Action.materials_manage) as (tx, _, member):
        collection, change = await library.create_collection(
            tx,
            member,
            body.kind,
            check_text("title", body.title, TITLE_MAX),
            body.description,
            body.pupils_may_upload,
        )
    await _publish(request, member.project_id, [change])
    return JSONResponse(library.collection_payload(collection), status_code=201)


async def update_collection(request: Request) -> Response:
    body = await read_body(request, CollectionPatchIn)
    changes = body.model_dump(exclude_none=True)
    for name in ("title", "description"):
        if name in changes:
            check_text(name, changes[name], DESCRIPTION_MAX)
    async with in_room(request, Action.materials_manage) as (tx, _, member):
        collection = await library.collection_for(tx, member, _id(request, "collection_id"))
        change = await library.update_collection(tx, member, collection, changes)
    await _publish(request, member.project_id, [change])
    return JSONResponse(library.collection_payload(collection))


async def update_material(request: Request) -> Response:
    body = await read_body(request, MaterialPatchIn)
    async with in_room(request, Action.materials_manage) as (tx, _, member):
        material = await library.material_for(tx, member, _id(request, "material_id"))
        for name, value in body.model_dump(exclude_none=True).items():
            setattr(
                material,
                name,
                check_text(name, value, DESCRIPTION_MAX) if name != "position" else value,
            )
        changes = await library.changed(
            tx, material, "materials.material.changed", material.status == "pending"
        )
        payload = library.material_payload(material)
    await _publish(request, member.project_id, changes)
    return JSONResponse(payload)


async def delete_material(request: Request) -> Response:
    node = services(request)
    async with in_room(request, Action.materials_read) as (tx, _, member):
        material = await library.material_for(tx, member, _id(request, "material_id"))
        digests = set(material.blobs.values())
        changes = await library.remove(tx, member, material)
        await tx.flush()
        unused = await library.unused_digests(tx, member.project_id, digests)
    for digest in unused:
        await node.materials.store.delete(content_key(member.project_id, digest))
    await _publish(request, member.project_id, changes)
    return Response(status_code=204)


async def set_settings(request: Request) -> Response:
    body = await read_body(request, SettingsIn)
    async with in_room(request, Action.materials_review) as (tx, _, member):
        await library.set_pupil_uploads(tx, member, body.pupil_uploads)
    return JSONResponse({"pupil_uploads": body.pupil_uploads.value})


async def review_queue(request: Request) -> Response:
    async with in_room(request, Action.materials_review) as (tx, _, member):
        pending = await library.review_queue(tx, member)
    return JSONResponse({"materials": [library.material_payload(m) for m in pending]})


async def review(request: Request) -> Response:
    body = await read_body(request, ReviewIn)
    async with in_room(request, Action.materials_review) as (tx, _, member):
        material = await library.material_for(tx, member, _id(request, "material_id"))
        changes = await library.review(tx, member, material, body.verdict)
        payload = library.material_payload(material)
    await _publish(request, member.project_id, changes)
    return JSONResponse(payload)


async def report(request: Request) -> Response:
    body = await read_body(request, ReportIn)
    async with in_room(request, Action.content_report) as (tx, _, member):
        material = await library.material_for(tx, member, _id(request, "material_id"))
        await library.report(tx, member, material, check_text("reason", body.reason, 500))
    return Response(status_code=204)


M = f"{BASE}/{{material_id:int}}"
ENDPOINTS = [
    Endpoint(
        "GET",
        BASE,
        overview,
        "Albums and folders with the materials I may see, and the "
        "project's `pupil_uploads` setting.",
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "POST",
        f"{BASE}/collections",
        create_collection,
        "Create an album (images) or a folder (video, audio, files).",
        body=CollectionIn,
        status=201,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "PATCH",
        f"{BASE}/collections/{{collection_id:int}}",
        update_collection,
        "Rename, describe, reorder an album or folder, or allow pupils' uploads into it.",
        body=CollectionPatchIn,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "PUT",
        f"{BASE}/settings",
        set_settings,
        "The project's `pupil_uploads`: `off`, `review` (default) or `open`.",
        body=SettingsIn,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "GET",
        f"{BASE}/review",
        review_queue,
        "Pupils' uploads waiting for review.",
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "POST",
        f"{M}/review",
        review,
        "Approve or reject a pending upload (audited).",
        body=ReviewIn,
        errors=WRITE_ERRORS + (ErrorCode.conflict,),
    ),
    Endpoint(
        "PATCH",
        M,
        update_material,
        "Retitle, describe or reorder a material.",
        body=MaterialPatchIn,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "DELETE",
        M,
        delete_material,
        "Delete a material (managers; uploaders their own pending one); audited.",
        status=204,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "POST",
        f"{M}/report",
        report,
        "Report a material to the teachers (audited).",
        body=ReportIn,
        status=204,
        errors=WRITE_ERRORS,
    ),
]
