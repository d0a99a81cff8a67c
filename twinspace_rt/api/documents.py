"""Shared documents over REST: the catalogue, content in several formats, binary updates for
tools that hold no socket, and versions. Live editing is the Yjs socket (docs/PROTOCOL.md)."""

from __future__ import annotations

import base64
import binascii
import difflib
import logging
from typing import Any

from pycrdt import Doc
from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.document_schemas import (
    DocumentCreateIn,
    DocumentListOut,
    DocumentOut,
    DocumentPatchIn,
    UpdateOut,
    VersionCreateIn,
    VersionDiffOut,
    VersionListOut,
    VersionOut,
)
from twinspace_rt.api.http import Endpoint, in_room, query_int, read_body, respond, services
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.auth.policy import Action, require
from twinspace_rt.documents import catalog, store, versions
from twinspace_rt.documents.content import MEDIA_TYPES, Format, render
from twinspace_rt.documents.document import DocRef
from twinspace_rt.documents.guard import BadUpdate, apply, diff_against
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import audit

log = logging.getLogger(__name__)

DOC = PROJECT + "/docs/{doc_id:int}"
WRITE_ERRORS = ROOM_ERRORS + (ErrorCode.read_only,)


async def create_document(request: Request) -> Response:
    body = await read_body(request, DocumentCreateIn)
    async with in_room(request, Action.doc_manage) as (tx, _, member):
        document = await catalog.create(tx, member, body.name, body.title, body.kind)
    return respond(DocumentOut.of(document), 201)


async def list_documents(request: Request) -> Response:
    async with in_room(request, Action.doc_read) as (tx, _, member):
        found = await catalog.listed(tx, member)
    return respond(DocumentListOut(documents=[DocumentOut.of(d) for d in found]))


async def get_document(request: Request) -> Response:
    async with in_room(request, Action.doc_read) as (tx, _, member):
        document = await catalog.get(tx, member, request.path_params["doc_id"])
    return respond(DocumentOut.of(document))


async def update_document(request: Request) -> Response:
    body = await read_body(request, DocumentPatchIn)
    async with in_room(request, Action.doc_manage) as (tx, _, member):
        document = await catalog.get(tx, member, request.path_params["doc_id"])
        document = await catalog.update(tx, member, document, body.title, body.name)
    return respond(DocumentOut.of(document))


async def delete_document(request: Request) -> Response:
    async with in_room(request, Action.doc_manage) as (tx, _, member):
        document = await catalog.get(tx, member, request.path_params["doc_id"])
        await catalog.delete(tx, member, document)
    services(request).documents.closed(request.path_params["doc_id"])
    return respond(None, 204)


async def read_content(request: Request) -> Response:
    fmt = _format(request)
    async with in_room(request, Action.doc_read) as (tx, _, member):
        document = await catalog.get(tx, member, request.path_params["doc_id"])
    ref = catalog.ref(document)
    state = await store.state(services(request).db, ref.id)
    return _content(ref, state, fmt, request.query_params.get("sv"))


async def apply_update(request: Request) -> Response:
    """A binary Yjs v1 update, stored and relayed exactly like one from a socket."""
    limit = services(request).settings.docs_message_max_bytes
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise AppError(ErrorCode.payload_too_large, f"Updates are limited to {limit} bytes.")
    async with in_room(request, Action.doc_edit) as (tx, _, member):
        document = await catalog.get(tx, member, request.path_params["doc_id"])
        for action in catalog.edit_actions(document):
            require(member, action)
    documents = services(request).documents
    try:
        async with documents.held(catalog.ref(document)) as live:
            stored = await documents.submit(live, bytes(raw), None, member.user_id)
    except BadUpdate as exc:
        raise AppError(ErrorCode.bad_update, f"Not a Yjs v1 update: {exc}") from exc
    return respond(UpdateOut(stored=stored))


async def list_versions(request: Request) -> Response:
    async with in_room(request, Action.doc_read) as (tx, _, member):
        document = await catalog.get(tx, member, request.path_params["doc_id"])
        assert document.id is not None
        found = await versions.listed(tx, document.id)
    return respond(VersionListOut(versions=[VersionOut.of(v) for v in found]))


async def save_version(request: Request) -> Response:
    body = await read_body(request, VersionCreateIn)
    db = services(request).db
    async with in_room(request, Action.doc_manage) as (tx, _, member):
        document = await catalog.get(tx, member, request.path_params["doc_id"])
        assert document.id is not None
        version = await versions.save(tx, db, document.id, body.name, False, member.user_id)
        audit.record(tx, member, "doc.version", document_id=document.id, name=body.name)
    return respond(VersionOut.of(version), 201)


async def read_version(request: Request) -> Response:
    fmt = _format(request)
    async with in_room(request, Action.doc_read) as (tx, _, member):
        document = await catalog.get(tx, member, request.path_params["doc_id"])
        ref = catalog.ref(document)
        version = await versions.get(tx, ref.id, request.path_params["version_id"])
    return _content(ref, version.state, fmt, request.query_params.get("sv"))


async def diff_versions(request: Request) -> Response:
    """`from` a version `to` another (default: the current content), as a unified text diff."""
    old_id = query_int(request, "from", None, 1, 2**62)
    new_id = query_int(request, "to", None, 1, 2**62)
    if old_id is None:
        raise AppError(ErrorCode.validation_failed, "`from` is required.")
    async with in_room(request, Action.doc_read) as (tx, _, member):
        document = await catalog.get(tx, member, request.path_params["doc_id"])
        ref = catalog.ref(document)
        old = (await versions.get(tx, ref.id, old_id)).state
        new = (await versions.get(tx, ref.id, new_id)).state if new_id else None
    if new is None:
        new = await store.state(services(request).db, ref.id)
    lines = difflib.unified_diff(
        _text(ref, old).splitlines(),
        _text(ref, new).splitlines(),
        f"version {old_id}",
        f"version {new_id}" if new_id else "current",
        lineterm="",
    )
    return respond(VersionDiffOut(diff="\n".join(lines)))


async def restore_version(request: Request) -> Response:
    """A forward update against the current state: live clients converge, nobody resets."""
    db = services(request).db
    async with in_room(request, Action.doc_manage) as (tx, _, member):
        document = await catalog.get(tx, member, request.path_params["doc_id"])
        ref = catalog.ref(document)
        version = await versions.get(tx, ref.id, request.path_params["version_id"])
        audit.record(tx, member, "doc.restore", document_id=ref.id, version_id=version.id)
    documents = services(request).documents
    try:
        async with documents.held(ref) as live:
            current = await store.state(db, ref.id)
            forward = await versions.restoring(ref.kind, version.state, current)
            stored = await documents.submit(live, forward, None, member.user_id)
    except BadUpdate as exc:
        raise AppError(ErrorCode.bad_update, f"This version cannot be restored: {exc}") from exc
    return respond(UpdateOut(stored=stored))


def _format(request: Request) -> Format:
    raw = request.query_params.get("format", Format.text.value)
    try:
        return Format(raw)
    except ValueError as exc:
        choices = ", ".join(f.value for f in Format)
        raise AppError(ErrorCode.validation_failed, f"`format` must be one of {choices}.") from exc


def _content(ref: DocRef, state: bytes, fmt: Format, sv: str | None) -> Response:
    doc = _replica(ref, state)
    if fmt is Format.update:
        try:
            body = diff_against(doc, _state_vector(sv)) if sv else doc.get_update()
        except BadUpdate as exc:
            raise AppError(ErrorCode.validation_failed, "`sv` is not a state vector.") from exc
        return Response(body, media_type=MEDIA_TYPES[fmt])
    return Response(render(doc, ref.kind, fmt), media_type=MEDIA_TYPES[fmt])


def _text(ref: DocRef, state: bytes) -> str:
    return render(_replica(ref, state), ref.kind, Format.text)


def _replica(ref: DocRef, state: bytes) -> Doc[Any]:
    """A stored state (current content or a version) in a replica. The current content comes
    from `store.replay`, which skips what does not apply; a version saved before that existed
    and that does not apply is shown empty rather than failing."""
    doc: Doc[Any] = Doc()
    try:
        apply(doc, state, "the stored state")
    except BadUpdate as exc:
        log.warning("document %s: %s", ref.id, exc)
        return Doc()
    return doc


def _state_vector(sv: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(sv.replace("+", "-").replace("/", "_") + "==")
    except (binascii.Error, ValueError) as exc:
        raise AppError(ErrorCode.validation_failed, "`sv` must be base64.") from exc


VERSION = DOC + "/versions/{version_id:int}"
FORMAT_QUERY = {
    "format": "text (default), markdown, html, json or update (binary Yjs v1)",
    "sv": "with format=update: base64 state vector; the answer is the diff against it",
}

ENDPOINTS = [
    Endpoint(
        "GET",
        PROJECT + "/docs",
        list_documents,
        "The project's documents (`doc.read`).",
        response=DocumentListOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "POST",
        PROJECT + "/docs",
        create_document,
        "Create a document (`doc.manage`); edit it live at `socket` with any Yjs editor.",
        body=DocumentCreateIn,
        response=DocumentOut,
        status=201,
        errors=WRITE_ERRORS + (ErrorCode.conflict,),
    ),
    Endpoint("GET", DOC, get_document, "One document.", response=DocumentOut, errors=ROOM_ERRORS),
    Endpoint(
        "PATCH",
        DOC,
        update_document,
        "Rename a document or change its title (`doc.manage`).",
        body=DocumentPatchIn,
        response=DocumentOut,
        errors=WRITE_ERRORS + (ErrorCode.conflict,),
    ),
    Endpoint(
        "DELETE",
        DOC,
        delete_document,
        "Delete a document (`doc.manage`); its sockets close with 4404.",
        status=204,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "GET",
        DOC + "/content",
        read_content,
        "The current content as text, Markdown, HTML, JSON or a binary Yjs update.",
        errors=ROOM_ERRORS + (ErrorCode.validation_failed,),
        text_query=FORMAT_QUERY,
    ),
    Endpoint(
        "POST",
        DOC + "/update",
        apply_update,
        "Apply a binary Yjs v1 update (body `application/octet-stream`, `doc.edit`); stored, "
        "then relayed live.",
        response=UpdateOut,
        errors=WRITE_ERRORS + (ErrorCode.bad_update, ErrorCode.payload_too_large),
        raw_body="application/octet-stream",
    ),
    Endpoint(
        "GET",
        DOC + "/versions",
        list_versions,
        "Saved and automatic versions, newest first.",
        response=VersionListOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "POST",
        DOC + "/versions",
        save_version,
        "Save the current content as a named version (`doc.manage`).",
        body=VersionCreateIn,
        response=VersionOut,
        status=201,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "GET",
        DOC + "/versions/diff",
        diff_versions,
        "A unified text diff from one version to another (default: the current content).",
        response=VersionDiffOut,
        errors=ROOM_ERRORS + (ErrorCode.validation_failed,),
        query={"from": "version id", "to": "version id (default: current content)"},
    ),
    Endpoint(
        "GET",
        VERSION + "/content",
        read_version,
        "A version's content, in the formats of the current content.",
        errors=ROOM_ERRORS + (ErrorCode.validation_failed,),
        text_query=FORMAT_QUERY,
    ),
    Endpoint(
        "POST",
        VERSION + "/restore",
        restore_version,
        "Restore a version as a new forward update (`doc.manage`): live clients converge.",
        response=UpdateOut,
        errors=WRITE_ERRORS + (ErrorCode.bad_update,),
    ),
]
