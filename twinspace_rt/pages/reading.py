"""Which pages are new to a member: created or edited by others since they last opened them.

A page's change is its document's last edit (``documents.last_edited_at`` and ``_by``), or its
creation while nobody has written in it. A page the member never opened, changed by someone
else, is new; a change of their own is not. Marks only move forward.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.pages import audience, tree
from twinspace_rt.storage.document_models import Document
from twinspace_rt.storage.search_models import PageRead


async def mark(tx: AsyncSession, member: Member, page_id: int) -> datetime:
    """The page must be one the member sees (`not_found` otherwise)."""
    require(member, Action.page_read)
    tree.get(await tree.load(tx, member.project_id), member, page_id)
    now = datetime.now(UTC)
    insert = postgresql.insert if tx.get_bind().dialect.name == "postgresql" else sqlite.insert
    await tx.exec(
        insert(PageRead)
        .values(project_id=member.project_id, user_id=member.user_id, page_id=page_id, read_at=now)
        .on_conflict_do_nothing(index_elements=["user_id", "page_id"])
    )
    await tx.exec(
        update(PageRead)
        .where(
            col(PageRead.user_id) == member.user_id,
            col(PageRead.page_id) == page_id,
            col(PageRead.read_at) < now,
        )
        .values(read_at=now)
    )
    return now


async def unread(tx: AsyncSession, member: Member) -> list[int]:
    """The ids, in menu order, of the pages the member sees that are new to them."""
    pages = await tree.load(tx, member.project_id)
    seen = audience.of(member)
    visible = [p for p in pages.ordered() if audience.visible(seen, p, pages.by_id)]
    documents = {
        d.id: (d.last_edited_at, d.last_edited_by)
        for d in await tx.exec(
            select(Document).where(col(Document.id).in_([p.document_id for p in visible]))
        )
    }
    read = {
        r.page_id: r.read_at
        for r in await tx.exec(
            select(PageRead).where(
                PageRead.project_id == member.project_id, PageRead.user_id == member.user_id
            )
        )
    }
    new = []
    for page in visible:
        edited_at, edited_by = documents[page.document_id]
        changed_at, changed_by = (
            (edited_at, edited_by) if edited_at is not None else (page.created_at, page.created_by)
        )
        last_read = read.get(page.id or 0)
        if changed_by != member.user_id and (last_read is None or last_read < changed_at):
            new.append(page.id or 0)
    return new
