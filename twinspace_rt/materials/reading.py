"""Which materials are new to a member ("What's new"): those others added since the member last
marked the project's materials seen, as the albums and folders show them (approved ones; for
reviewers the pending ones too; never a rejected one).

A material counts from when it was uploaded: a pupil's photo approved after the mark was set,
but uploaded before it, is not new (its reviewers saw it pending). Marks only move forward.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, can, require
from twinspace_rt.storage.material_models import Material, MaterialRead

NEWEST = 10  # materials named in "What's new"; the count says how many in all


async def mark(tx: AsyncSession, member: Member) -> datetime:
    require(member, Action.materials_read)
    now = datetime.now(UTC)
    insert = postgresql.insert if tx.get_bind().dialect.name == "postgresql" else sqlite.insert
    await tx.exec(
        insert(MaterialRead)
        .values(project_id=member.project_id, user_id=member.user_id, read_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "project_id"])
    )
    await tx.exec(
        update(MaterialRead)
        .where(
            col(MaterialRead.user_id) == member.user_id,
            col(MaterialRead.project_id) == member.project_id,
            col(MaterialRead.read_at) < now,
        )
        .values(read_at=now)
    )
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
