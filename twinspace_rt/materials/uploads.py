"""tus uploads: creation (limits and quota checked before a byte is stored), appending at an
offset, termination and expiry. The protocol's HTTP side is `api/tus.py`.

State is a row (`MaterialUpload`), bytes are parts in the shared blob store named by their
offset (``parts/<upload>/<offset>``), so any node can continue an upload another began. A PATCH
holds the row's lock (``lock_token`` until ``lock_until``, taken with one conditional UPDATE, so
two nodes cannot both take it); a second PATCH meanwhile gets 409. The body streams into parts
of at most ``materials_chunk_bytes``, each durable before the offset moves past it, so memory
stays bounded (no part is buffered by the local store, one by S3) and a connection cut mid-way
keeps every byte that arrived.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Member
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.materials import library
from twinspace_rt.materials.blobs import BlobStore, parts_prefix
from twinspace_rt.materials.kinds import CollectionKind, check_filename, check_text, declared_max
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.material_models import TITLE_MAX, MaterialJob, MaterialUpload
from twinspace_rt.storage.models import DESCRIPTION_MAX, utcnow

# How long a PATCH holds its upload without storing a chunk: a node that died mid-PATCH
# frees the upload for a resume on another node after this.
PATCH_LEASE = timedelta(seconds=60)


def part_key(upload_id: str, offset: int) -> str:
    return f"{parts_prefix(upload_id)}{offset:015d}"


async def create(
    tx: AsyncSession,
    member: Member,
    settings: Settings,
    length: int,
    meta: dict[str, str],
) -> MaterialUpload:
    try:
        collection_id = int(meta.get("collection_id", ""))
    except ValueError as exc:
        raise AppError(
            ErrorCode.validation_failed, "Upload-Metadata needs `collection_id`."
        ) from exc
    collection = await library.collection_for(tx, member, collection_id)
    status = await library.upload_status(tx, member, collection)
    filename = check_filename(meta.get("filename", ""))
    declaration = meta.get("declaration", "").strip()
    if not declaration:
        raise AppError(
            ErrorCode.validation_failed,
            "Declare that you may share this file (`declaration` in Upload-Metadata).",
        )
    most = declared_max(settings, CollectionKind(collection.kind))
    if length > most:
        raise AppError(ErrorCode.payload_too_large, f"This upload may be at most {most} bytes.")
    await library.check_quota(tx, member.project_id, length, settings.materials_project_quota_bytes)
    upload = MaterialUpload(
        id=secrets.token_hex(16),
        project_id=member.project_id,
        collection_id=collection_id,
        user_id=member.user_id,
        filename=filename,
        title=check_text("title", meta.get("title", ""), TITLE_MAX),
        description=check_text("description", meta.get("description", ""), DESCRIPTION_MAX),
        declaration=check_text("declaration", declaration, 200),
        length=length,
        needs_review=status == "pending",
        expires_at=utcnow() + timedelta(seconds=settings.materials_upload_expiry_seconds),
    )
    tx.add(upload)
    return upload


async def find(tx: AsyncSession, member: Member, upload_id: str) -> MaterialUpload:
    """The member's own upload in this project; an expired one is gone (410)."""
    upload = await tx.get(MaterialUpload, upload_id)
    if upload is None or upload.project_id != member.project_id or upload.user_id != member.user_id:
        raise AppError(ErrorCode.not_found, "No such upload.")
    if upload.status == "open" and upload.expires_at <= utcnow():
        raise AppError(ErrorCode.upload_expired)
    return upload


async def append(
    db: Database,
    store: BlobStore,
    settings: Settings,
    member: Member,
    upload_id: str,
    offset: int,
    body: AsyncIterator[bytes],
) -> MaterialUpload:
    """Appends ``body`` at ``offset``; on the last byte the upload is queued for processing."""
    token = secrets.token_hex(16)
    async with db.transaction() as tx:
        upload = await find(tx, member, upload_id)
        if upload.status != "open" or offset != upload.offset:
            raise AppError(
                ErrorCode.offset_mismatch, f"The upload stands at {upload.offset} bytes."
            )
        now = utcnow()
        taken = await tx.exec(
            update(MaterialUpload)
            .where(
                col(MaterialUpload.id) == upload_id,
                or_(col(MaterialUpload.lock_until).is_(None), col(MaterialUpload.lock_until) < now),
            )
            .values(lock_token=token, lock_until=now + PATCH_LEASE)
        )
        if taken.rowcount != 1:
            raise AppError(ErrorCode.upload_busy)
        length = upload.length
    chunks = aiter(body)
    carry = b""
    try:
        while True:
            first = carry or await anext(chunks, b"")
            if not first:
                break
            size, carry = await _store_part(
                db,
                store,
                upload_id,
                token,
                offset,
                first,
                chunks,
                settings.materials_chunk_bytes,
                length,
            )
            offset += size
    finally:
        async with db.transaction() as tx:
            found = await tx.get(MaterialUpload, upload_id)
            assert found is not None
            upload = found
            if upload.lock_token == token:
                upload.lock_token = None
                upload.lock_until = None
                if upload.offset == upload.length and upload.status == "open":
                    upload.status = "complete"
                    tx.add(MaterialJob(upload_id=upload_id))
                tx.add(upload)
    return upload


async def _store_part(
    db: Database,
    store: BlobStore,
    upload_id: str,
    token: str,
    offset: int,
    first: bytes,
    chunks: AsyncIterator[bytes],
    most: int,
    length: int,
) -> tuple[int, bytes]:
    """Streams the body into one part of at most ``most`` bytes, straight to the store (the
    local store writes each chunk as it comes; S3 holds one part). The part is durable before
    the offset that counts it is committed. Returns its size and the bytes left over."""
    size = 0
    carry = b""

    async def part() -> AsyncIterator[bytes]:
        nonlocal size, carry
        piece: bytes | None = first
        while piece:
            room = most - size
            if len(piece) > room:
                piece, carry = piece[:room], piece[room:]
            if offset + size + len(piece) > length:
                raise AppError(ErrorCode.payload_too_large, "More bytes than Upload-Length.")
            yield piece
            size += len(piece)
            if size >= most:
                return
            piece = await anext(chunks, b"")

    await store.put(part_key(upload_id, offset), part())
    async with db.transaction() as tx:
        moved = await tx.exec(
            update(MaterialUpload)
            .where(col(MaterialUpload.id) == upload_id, col(MaterialUpload.lock_token) == token)
            .values(offset=offset + size, lock_until=utcnow() + PATCH_LEASE)
        )
        if moved.rowcount != 1:
            raise AppError(ErrorCode.upload_busy, "The upload was taken over or removed.")
    return size, carry


async def read_parts(store: BlobStore, upload: MaterialUpload) -> AsyncIterator[bytes]:
    """The upload's bytes in order, following the committed chain of parts."""
    offset = 0
    while offset < upload.length:
        size = await store.size(part_key(upload.id, offset))
        if size is None or size == 0:
            raise RuntimeError(f"upload {upload.id}: part at {offset} is missing")
        async for chunk in store.read(part_key(upload.id, offset)):
            yield chunk
        offset += size


async def terminate(tx: AsyncSession, member: Member, upload_id: str) -> None:
    """tus termination: an unfinished upload is dropped (its parts after the commit)."""
    upload = await tx.get(MaterialUpload, upload_id)
    if upload is None or upload.project_id != member.project_id or upload.user_id != member.user_id:
        raise AppError(ErrorCode.not_found, "No such upload.")
    if upload.status != "open":
        raise AppError(ErrorCode.conflict, "The upload is complete; delete the material instead.")
    await tx.delete(upload)


async def expired(tx: AsyncSession, now: datetime) -> list[str]:
    """Removes unfinished uploads past their expiry (and finished ones' rows once their job is
    done); returns their ids so the caller deletes their parts after the commit."""
    found = await tx.exec(
        select(MaterialUpload).where(
            col(MaterialUpload.expires_at) < now,
            col(MaterialUpload.status).in_(("open", "done", "failed")),
        )
    )
    ids = []
    for upload in found:
        jobs = await tx.exec(select(MaterialJob).where(MaterialJob.upload_id == upload.id))
        for job in jobs:
            await tx.delete(job)
        await tx.delete(upload)
        ids.append(upload.id)
    return ids
