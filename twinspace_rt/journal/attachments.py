"""Materials attached to journal posts: checked when attached, shown while they stay approved.

A post may carry up to `ATTACHMENTS_MAX` of the project's materials, in order. Only materials
the author may see and that are approved can be attached (another project's, an unknown one, or
a pupil's upload still in review is `not_found`), so a post never shows anyone a material they
could not open themselves. The bytes are fetched through the materials' signed links; a post's
payload carries only each material's id, kind and title. Removing or erasing a material drops
its attachments (a cascading foreign key); a deleted post keeps none.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Member
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.materials import library
from twinspace_rt.storage.material_models import Material
from twinspace_rt.storage.page_models import JournalAttachment

ATTACHMENTS_MAX = 10


async def check(tx: AsyncSession, member: Member, material_ids: list[int]) -> list[int]:
    """The ids, without repeats, of approved materials of the member's project they may see."""
    wanted = list(dict.fromkeys(material_ids))
    if len(wanted) > ATTACHMENTS_MAX:
        raise AppError(
            ErrorCode.validation_failed, f"At most {ATTACHMENTS_MAX} materials per post."
        )
    for material_id in wanted:
        material = await library.material_for(tx, member, material_id)
        if material.status != "approved":
            raise AppError(ErrorCode.not_found, f"No approved material {material_id} here.")
    return wanted


async def replace(tx: AsyncSession, post_id: int, material_ids: list[int]) -> None:
    await tx.exec(delete(JournalAttachment).where(col(JournalAttachment.post_id) == post_id))
    for position, material_id in enumerate(material_ids):
        tx.add(JournalAttachment(post_id=post_id, material_id=material_id, position=position))
    await tx.flush()


async def of_posts(tx: AsyncSession, post_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each post's attached materials that are still approved, in order."""
    found = await tx.exec(
        select(JournalAttachment, Material)
        .join(Material, col(Material.id) == col(JournalAttachment.material_id))
        .where(col(JournalAttachment.post_id).in_(post_ids), Material.status == "approved")
        .order_by(col(JournalAttachment.post_id), col(JournalAttachment.position))
    )
    attached: dict[int, list[dict[str, Any]]] = {}
    for link, material in found:
        attached.setdefault(link.post_id, []).append(
            {"id": material.id, "kind": material.kind, "title": material.title or material.filename}
        )
    return attached
