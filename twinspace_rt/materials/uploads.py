"""tus uploads: creation (limits and quota checked before a byte is stored), appending at an
offset, termination and expiry. The protocol's HTTP side is `api/tus.py`.

State is a row (`MaterialUpload`), bytes are parts in the shared blob store named by their
offset (``parts/<upload>/<offset>``), so any node can continue an upload another began. A PATCH
holds the row's lock (``lock_token`` until ``lock_until``, taken with one conditional UPDATE, so
two nodes cannot both take it); a second PATCH meanwhile gets 409. The body streams into parts
of at most ``materials_chunk_bytes``, each durable before the offset moves past it, so memory
stays bounded (no part is buffered by the local store, one by S3) and a connection cut mid-way
keeps every byte that arrived. On the local store one part is flushed while the next is read.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

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
    # Each part is kept by a task of its own: while one part is flushed and its offset
    # committed, the next one already reads the body (stores that buffer a part do not overlap,
    # so their memory stays one part). Offsets still commit in order: a part's task waits for
    # the previous one's before committing its own.
    keeping: list[asyncio.Task[None]] = []
    try:
        while True:
            first = carry or await anext(chunks, b"")
            if not first:
                break
            part = _Part(first, chunks, settings.materials_chunk_bytes, offset, length)
            after = keeping[-1] if keeping else None
            kept = asyncio.create_task(_keep(db, store, upload_id, token, part, after))
            keeping.append(kept)
            drained: asyncio.Future[Any] = asyncio.ensure_future(part.taken.wait())
            await asyncio.wait((kept, drained), return_when=asyncio.FIRST_COMPLETED)
            drained.cancel()
            if kept.done() or store.buffers_parts:
                await kept
            offset += part.size
            carry = part.carry
        if keeping:
            await keeping[-1]
    finally:
        # Whatever failed, no part task may still be committing once the lock is let go.
        await asyncio.gather(*keeping, return_exceptions=True)
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


class _Part:
    """One part's share of the PATCH body: at most ``most`` bytes, what is left carried over to
    the next part. ``taken`` is set once the part has read all it will read of the body."""

    def __init__(
        self, first: bytes, chunks: AsyncIterator[bytes], most: int, offset: int, length: int
    ) -> None:
        self.first = first
        self.chunks = chunks
        self.most = most
        self.offset = offset
        self.length = length
        self.size = 0
        self.carry = b""
        self.taken = asyncio.Event()

    async def pieces(self) -> AsyncIterator[bytes]:
        try:
            piece: bytes | None = self.first
            while piece:
                room = self.most - self.size
                if len(piece) > room:
                    piece, self.carry = piece[:room], piece[room:]
                if self.offset + self.size + len(piece) > self.length:
                    raise AppError(ErrorCode.payload_too_large, "More bytes than Upload-Length.")
                yield piece
                self.size += len(piece)
                if self.size >= self.most:
                    return
                piece = await anext(self.chunks, b"")
        finally:
            self.taken.set()


async def _keep(
    db: Database,
    store: BlobStore,
    upload_id: str,
    token: str,
    part: _Part,
    after: asyncio.Task[None] | None,
) -> None:
    """Stores the part (durable when ``put`` returns), then, once the part before it is
    committed, commits the offset that counts it."""
    await store.put(part_key(upload_id, part.offset), part.pieces())
    if after is not None:
        await after
    async with db.transaction() as tx:
        moved = await tx.exec(
            update(MaterialUpload)
            .where(col(MaterialUpload.id) == upload_id, col(MaterialUpload.lock_token) == token)
            .values(offset=part.offset + part.size, lock_until=utcnow() + PATCH_LEASE)
        )
        if moved.rowcount != 1:
            raise AppError(ErrorCode.upload_busy, "The upload was taken over or removed.")


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
