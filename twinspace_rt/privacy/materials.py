"""Erasing a member's materials: photos, videos and files of children must not outlive the
account. The rows go, the stored pushes that named them go, and so do the blobs no other
material still uses (blobs are deduplicated per project). Retention removes old materials the
same way (`remove_materials`)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from twinspace_rt.materials import library
from twinspace_rt.materials.blobs import BlobStore, content_key, create_store, parts_prefix
from twinspace_rt.privacy.context import Erasure, Progress
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.material_models import (
    Material,
    MaterialEvent,
    MaterialJob,
    MaterialUpload,
)


async def erase_materials(db: Database, erasure: Erasure, progress: Progress) -> None:
    """In batches: the member's materials in scope, their stored pushes, then unused blobs."""
    theirs = col(Material.uploader_id) == erasure.subject
    if erasure.project_id is not None:
        theirs = theirs & (col(Material.project_id) == erasure.project_id)
    store = create_store(erasure.settings)
    try:
        await remove_materials(db, store, theirs, erasure.batch, progress)
    finally:
        await store.close()


async def remove_materials(
    db: Database, store: BlobStore, where: Any, batch: int, progress: Progress
) -> int:
    """The materials ``where`` selects, in batches of ``batch``: each batch's rows and stored
    pushes in one transaction, then (after the commit: never a row without its blob) the blobs
    no other material of the project names. Erasure and retention both come here."""
    removed = 0
    while True:
        async with db.transaction() as tx:
            found = list((await tx.exec(select(Material).where(where).limit(batch))).all())
            if not found:
                return removed
            ids = {m.id for m in found}
            digests = {(m.project_id, d) for m in found for d in m.blobs.values()}
            events = await tx.exec(
                select(MaterialEvent).where(
                    col(MaterialEvent.project_id).in_({m.project_id for m in found})
                )
            )
            for event in events.all():
                named = json.loads(event.frame).get("material")
                if isinstance(named, dict) and named.get("id") in ids:
                    await tx.delete(event)
            for material in found:
                await tx.delete(material)
            await tx.flush()
            unused = []
            for project_id in {p for p, _ in digests}:
                mine = {d for p, d in digests if p == project_id}
                unused += [
                    (project_id, d) for d in await library.unused_digests(tx, project_id, mine)
                ]
        for project_id, digest in unused:
            await store.delete(content_key(project_id, digest))
        removed += len(found)
        await progress()


async def erase_uploads(db: Database, erasure: Erasure, progress: Progress) -> None:
    """The member's uploads (their processing jobs first), with any stored parts."""
    async with db.transaction() as tx:
        query = select(MaterialUpload.id).where(col(MaterialUpload.user_id) == erasure.subject)
        if erasure.project_id is not None:
            query = query.where(col(MaterialUpload.project_id) == erasure.project_id)
        upload_ids = list((await tx.exec(query)).all())
        if upload_ids:
            await tx.exec(delete(MaterialJob).where(col(MaterialJob.upload_id).in_(upload_ids)))
            await tx.exec(delete(MaterialUpload).where(col(MaterialUpload.id).in_(upload_ids)))
    store: BlobStore = create_store(erasure.settings)
    try:
        for upload_id in upload_ids:
            await store.delete_prefix(parts_prefix(upload_id))
    finally:
        await store.close()
    await progress()
