"""Up to which journal post a member has read, and how many newer ones wait ("What's new")."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.journal.streams import PUBLISHED
from twinspace_rt.storage.page_models import JournalPost, JournalRead
from twinspace_rt.storage.rows import advance_mark


async def mark(tx: AsyncSession, member: Member, post_id: int) -> int:
    """Never moves back: reading an older post on another device keeps the newer mark."""
    require(member, Action.journal_read)
    keys = {"project_id": member.project_id, "user_id": member.user_id}
    await advance_mark(tx, JournalRead, keys, "last_read_id", post_id)
    return await _last_read(tx, member)


async def _last_read(tx: AsyncSession, member: Member) -> int:
    found = await tx.exec(
        select(JournalRead.last_read_id).where(
            JournalRead.project_id == member.project_id, JournalRead.user_id == member.user_id
        )
    )
    return found.first() or 0


async def unread(tx: AsyncSession, member: Member) -> int:
    """Published posts (not comments) by others after the mark, not deleted."""
    found = await tx.exec(
        select(func.count()).where(
            JournalPost.project_id == member.project_id,
            col(JournalPost.parent_id).is_(None),
            JournalPost.state == PUBLISHED,
            col(JournalPost.deleted_at).is_(None),
            JournalPost.author_id != member.user_id,
            col(JournalPost.id) > await _last_read(tx, member),
        )
    )
    return int(found.one())
