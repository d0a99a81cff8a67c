"""Which documents are new to a member: created or edited by others since they last opened
them. Pages (`pages/reading.py`) and the Documents list share these marks.

A document's change is its last edit (``documents.last_edited_at`` and ``_by``), or its
creation while nobody has written in it. A document the member never opened, changed by someone
else, is new; a change of their own is not. Marks only move forward.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Member
from twinspace_rt.documents import catalog
from twinspace_rt.storage.document_models import Document
from twinspace_rt.storage.rows import advance_mark
from twinspace_rt.storage.search_models import DocRead


async def mark(tx: AsyncSession, member: Member, document_id: int) -> datetime:
    """The caller has checked that the member may open the document."""
    now = datetime.now(UTC)
    keys = {"user_id": member.user_id, "document_id": document_id}
    await advance_mark(tx, DocRead, keys, "read_at", now, project_id=member.project_id)
    return now


async def new_to(tx: AsyncSession, member: Member, documents: list[Document]) -> set[int]:
    """The ids of those ``documents`` that others created or edited since the member last
    opened them."""
    read = {
        r.document_id: r.read_at
        for r in await tx.exec(
            select(DocRead).where(
                DocRead.project_id == member.project_id, DocRead.user_id == member.user_id
            )
        )
    }
    new = set()
    for document in documents:
        assert document.id is not None
        changed_at, changed_by = (
            (document.last_edited_at, document.last_edited_by)
            if document.last_edited_at is not None
            else (document.created_at, document.created_by)
        )
        last_read = read.get(document.id)
        if changed_by != member.user_id and (last_read is None or last_read < changed_at):
            new.add(document.id)
    return new


async def unread(tx: AsyncSession, member: Member) -> list[Document]:
    """The documents of the Documents list new to the member, latest change first."""
    listed = await catalog.listed(tx, member)
    new = await new_to(tx, member, listed)
    found = [d for d in listed if d.id in new]
    return sorted(found, key=lambda d: d.last_edited_at or d.created_at, reverse=True)
