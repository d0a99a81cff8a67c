"""Which pages are new to a member: their documents' read marks (`documents/reading.py`).

A page's change is its document's: its last edit, or its creation while nobody has written in
it (a page and its document are created together, by the same member).
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.documents import reading
from twinspace_rt.pages import audience, tree
from twinspace_rt.storage.document_models import Document


async def mark(tx: AsyncSession, member: Member, page_id: int) -> datetime:
    """The page must be one the member sees (`not_found` otherwise)."""
    require(member, Action.page_read)
    page = tree.get(await tree.load(tx, member.project_id), member, page_id)
    return await reading.mark(tx, member, page.document_id)


async def unread(tx: AsyncSession, member: Member) -> list[int]:
    """The ids, in menu order, of the pages the member sees that are new to them."""
    pages = await tree.load(tx, member.project_id)
    seen = audience.of(member)
    visible = [p for p in pages.ordered() if audience.visible(seen, p, pages.by_id)]
    documents = list(
        await tx.exec(
            select(Document).where(col(Document.id).in_([p.document_id for p in visible]))
        )
    )
    new = await reading.new_to(tx, member, documents)
    return [p.id or 0 for p in visible if p.document_id in new]
