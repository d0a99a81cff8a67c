"""Albums, folders and the materials in them: what each member sees, ordering, the review of
pupils' uploads, the project's upload setting, the quota, and removal of a project's materials.

Every change stores its push with the stream's next seq in the caller's transaction
(`materials/streams.py`); the caller publishes the returned changes after the commit.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, update
from sqlmodel import col, delete, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import PUPIL_ROLES, Action, Member, can, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.materials.kinds import CollectionKind, PupilUploads
from twinspace_rt.materials.streams import Change, Stream, record
from twinspace_rt.projects import audit
from twinspace_rt.storage.material_models import (
    Material,
    MaterialCollection,
    MaterialEvent,
    MaterialJob,
    MaterialSettings,
    MaterialStream,
    MaterialUpload,
)
from twinspace_rt.storage.rows import insert_missing


def collection_payload(collection: MaterialCollection) -> dict[str, Any]:
    return {
        "id": collection.id,
        "kind": collection.kind,
        "title": collection.title,
        "description": collection.description,
        "position": collection.position,
        "pupils_may_upload": collection.pupils_may_upload,
    }


def material_payload(material: Material) -> dict[str, Any]:
    """What clients see: never a storage key, never the original of an image."""
    return {
        "id": material.id,
        "collection_id": material.collection_id,
        "kind": material.kind,
        "title": material.title,
        "description": material.description,
        "filename": material.filename,
        "mime": material.mime,
        "size": material.size,
        "width": material.width,
        "height": material.height,
        "duration": material.duration,
        "variants": sorted(material.blobs),
        "status": material.status,
        "position": material.position,
        "uploader_id": material.uploader_id,
        "version": material.version,
        "created_at": material.created_at.isoformat(),
    }


async def pupil_uploads(tx: AsyncSession, project_id: int) -> PupilUploads:
    found = await tx.get(MaterialSettings, project_id)
    return PupilUploads(found.pupil_uploads) if found else PupilUploads.review


async def set_pupil_uploads(tx: AsyncSession, member: Member, value: PupilUploads) -> None:
    require(member, Action.materials_review)
    found = await tx.get(MaterialSettings, member.project_id)
    if found is None:
        found = MaterialSettings(project_id=member.project_id)
    found.pupil_uploads = value.value
    tx.add(found)
    audit.record(tx, member, "materials.settings", None, pupil_uploads=value.value)


async def collection_for(
    tx: AsyncSession, member: Member, collection_id: int
) -> MaterialCollection:
    """A collection of the member's own project; another project's is simply not found."""
    found = await tx.get(MaterialCollection, collection_id)
    if found is None or found.project_id != member.project_id:
        raise AppError(ErrorCode.not_found, f"No album or folder {collection_id} here.")
    return found


async def upload_status(tx: AsyncSession, member: Member, collection: MaterialCollection) -> str:
    """Checks the member may upload into ``collection``; the new material's status."""
    require(member, Action.materials_upload)
    if member.role not in PUPIL_ROLES:
        return "approved"
    setting = await pupil_uploads(tx, member.project_id)
    if setting is PupilUploads.off or not collection.pupils_may_upload:
        raise AppError(ErrorCode.forbidden, "Pupils may not upload here.")
    return "pending" if setting is PupilUploads.review else "approved"


async def create_collection(
    tx: AsyncSession,
    member: Member,
    kind: CollectionKind,
    title: str,
    description: str,
    pupils_may_upload: bool,
) -> tuple[MaterialCollection, Change]:
    require(member, Action.materials_manage)
    last = await tx.exec(
        select(func.max(MaterialCollection.position)).where(
            MaterialCollection.project_id == member.project_id
        )
    )
    collection = MaterialCollection(
        project_id=member.project_id,
        kind=kind.value,
        title=title,
        description=description,
        position=(last.first() or 0) + 1,
        pupils_may_upload=pupils_may_upload,
        created_by=member.user_id,
    )
    tx.add(collection)
    await tx.flush()
    change = await record(
        tx,
        member.project_id,
        Stream.materials,
        "materials.collection.changed",
        collection=collection_payload(collection),
    )
    return collection, change


async def update_collection(
    tx: AsyncSession, member: Member, collection: MaterialCollection, changes: dict[str, Any]
) -> Change:
    require(member, Action.materials_manage)
    for name, value in changes.items():
        setattr(collection, name, value)
    tx.add(collection)
    await tx.flush()
    return await record(
        tx,
        member.project_id,
        Stream.materials,
        "materials.collection.changed",
        collection=collection_payload(collection),
    )


async def collections(tx: AsyncSession, project_id: int) -> list[MaterialCollection]:
    found = await tx.exec(
        select(MaterialCollection)
        .where(MaterialCollection.project_id == project_id)
        .order_by(col(MaterialCollection.position), col(MaterialCollection.id))
    )
    return list(found)


async def materials_in(
    tx: AsyncSession, member: Member, collection: MaterialCollection
) -> list[Material]:
    """Approved materials, plus pending ones for reviewers and for their own uploader."""
    query = select(Material).where(Material.collection_id == collection.id)
    if not can(member, Action.materials_review):
        query = query.where(
            or_(Material.status == "approved", col(Material.uploader_id) == member.user_id)
        )
    query = query.where(Material.status != "rejected")
    found = await tx.exec(query.order_by(col(Material.position), col(Material.id)))
    return list(found)


async def material_for(tx: AsyncSession, member: Member, material_id: int) -> Material:
    """A material the member may see; anything else is not found."""
    found = await tx.get(Material, material_id)
    if found is None or found.project_id != member.project_id:
        raise AppError(ErrorCode.not_found, f"No material {material_id} here.")
    visible = found.status == "approved" or can(member, Action.materials_review)
    if not visible and not (found.status == "pending" and found.uploader_id == member.user_id):
        raise AppError(ErrorCode.not_found, f"No material {material_id} here.")
    require(member, Action.materials_read)
    return found


async def review_queue(tx: AsyncSession, member: Member) -> list[Material]:
    require(member, Action.materials_review)
    found = await tx.exec(
        select(Material)
        .where(Material.project_id == member.project_id, Material.status == "pending")
        .order_by(col(Material.id))
    )
    return list(found)


async def changed(
    tx: AsyncSession, material: Material, kind: str, was_pending: bool
) -> list[Change]:
    """The pushes of a change: to everyone once approved, to reviewers while pending."""
    material.version += 1
    tx.add(material)
    await tx.flush()
    payload = material_payload(material)
    out = []
    if material.status == "approved" or (kind == "materials.material.deleted" and not was_pending):
        out.append(await record(tx, material.project_id, Stream.materials, kind, material=payload))
    if material.status == "pending" or was_pending:
        out.append(
            await record(
                tx, material.project_id, Stream.review, "materials.review.changed", material=payload
            )
        )
    return out


async def review(
    tx: AsyncSession, member: Member, material: Material, verdict: str
) -> list[Change]:
    """Approve or reject a pending upload; audited in the same transaction."""
    require(member, Action.materials_review)
    if material.status != "pending":
        raise AppError(ErrorCode.conflict, "That material is not waiting for review.")
    material.status = "approved" if verdict == "approve" else "rejected"
    material.reviewed_by = member.user_id
    audit.record(tx, member, f"materials.{verdict}", material.uploader_id, material_id=material.id)
    kind = "materials.material.created" if verdict == "approve" else "materials.material.deleted"
    return await changed(tx, material, kind, was_pending=True)


async def remove(tx: AsyncSession, member: Member, material: Material) -> list[Change]:
    """Managers delete any material; uploaders their own pending one. The blobs go with the
    last material that uses them (`unused_digests`)."""
    if material.uploader_id != member.user_id or material.status != "pending":
        require(member, Action.materials_manage)
    was_pending = material.status == "pending"
    material.status = "deleted"
    audit.record(tx, member, "materials.delete", material.uploader_id, material_id=material.id)
    changes = await changed(tx, material, "materials.material.deleted", was_pending)
    await tx.delete(material)
    return changes


async def report(tx: AsyncSession, member: Member, material: Material, reason: str) -> None:
    require(member, Action.content_report)
    audit.record(
        tx, member, "materials.report", material.uploader_id, material_id=material.id, reason=reason
    )


async def unused_digests(tx: AsyncSession, project_id: int, digests: set[str]) -> set[str]:
    """Of ``digests``, those no material of the project still names (deduplicated blobs)."""
    found = await tx.exec(select(Material.blobs).where(Material.project_id == project_id))
    used = {digest for blobs in found for digest in blobs.values()}
    return digests - used


async def used_bytes(tx: AsyncSession, project_id: int) -> int:
    """Stored materials plus the declared length of every unfinished upload."""
    stored = await tx.exec(
        select(func.coalesce(func.sum(Material.stored_bytes), 0)).where(
            Material.project_id == project_id
        )
    )
    pending = await tx.exec(
        select(func.coalesce(func.sum(MaterialUpload.length), 0)).where(
            MaterialUpload.project_id == project_id,
            col(MaterialUpload.status).in_(("open", "complete")),
        )
    )
    return int(stored.one()) + int(pending.one())


async def check_quota(tx: AsyncSession, project_id: int, length: int, quota: int) -> None:
    """Refuses an upload of ``length`` bytes that would pass the project's quota.

    The project's settings row is written first, so the check and the caller's new upload row
    are one step per project until the commit: two creations at once could otherwise both read
    the same total and both pass. On PostgreSQL the no-op UPDATE holds the row's lock; on
    SQLite the write takes the database's write lock. Either way a second creation waits for
    the first's commit before it reads the total (tests/materials/test_quota.py).
    """
    await insert_missing(
        tx,
        MaterialSettings,
        ["project_id"],
        project_id=project_id,
        pupil_uploads=PupilUploads.review.value,
    )
    await tx.exec(
        update(MaterialSettings)
        .where(col(MaterialSettings.project_id) == project_id)
        .values(pupil_uploads=col(MaterialSettings.pupil_uploads))
    )
    if await used_bytes(tx, project_id) + length > quota:
        raise AppError(ErrorCode.quota_exceeded)


async def purge(tx: AsyncSession, project_id: int) -> list[str]:
    """Deletes every materials row of a project; returns the upload ids whose parts to delete
    (the caller deletes the project's blobs after the commit)."""
    uploads = await tx.exec(
        select(MaterialUpload.id).where(MaterialUpload.project_id == project_id)
    )
    upload_ids = list(uploads)
    if upload_ids:
        await tx.exec(delete(MaterialJob).where(col(MaterialJob.upload_id).in_(upload_ids)))
    for table in (MaterialUpload, Material, MaterialEvent, MaterialStream):
        await tx.exec(delete(table).where(col(table.project_id) == project_id))
    await tx.exec(
        delete(MaterialCollection).where(col(MaterialCollection.project_id) == project_id)
    )
    await tx.exec(delete(MaterialSettings).where(col(MaterialSettings.project_id) == project_id))
    return upload_ids
