"""Which materials are new to a member ("What's new"): those others added since the member last
marked the project's materials seen, as the albums and folders show them (approved ones; for
reviewers the pending ones too; never a rejected one).

A material counts from when it was uploaded: a pupil's photo approved after the mark was set,
but uploaded before it, is not new (its reviewers saw it pending). Marks only move forward.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, can, require
from twinspace_rt.storage.material_models import Material, MaterialRead
from twinspace_rt.storage.rows import advance_mark

NEWEST = 10  # materials named in "What's new"; the count says how many in all


async def mark(tx: AsyncSession, member: Member) -> datetime:
    require(member, Action.materials_read)
    now = datetime.now(UTC)
    keys = {"user_id": member.user_id, "project_id": member.project_id}
    await advance_mark(tx, MaterialRead, keys, "read_at", now)
    return now


async def unread(tx: AsyncSession, member: Member) -> tuple[int, list[Material]]:
    """How many materials are new to the member, and the newest ``NEWEST`` of them."""
    require(member, Action.materials_read)
    read_at = (
        await tx.exec(
            select(MaterialRead.read_at).where(
                MaterialRead.project_id == member.project_id,
                MaterialRead.user_id == member.user_id,
            )
        )
    ).first()
    where = [
        col(Material.project_id) == member.project_id,
        col(Material.uploader_id) != member.user_id,
        col(Material.status) != "rejected",
    ]
    if not can(member, Action.materials_review):
        where.append(col(Material.status) == "approved")
    if read_at is not None:
        where.append(col(Material.created_at) > read_at)
    count = (await tx.exec(select(func.count()).select_from(Material).where(*where))).one()
    newest = await tx.exec(
        select(Material).where(*where).order_by(col(Material.id).desc()).limit(NEWEST)
    )
    return count, list(newest)
