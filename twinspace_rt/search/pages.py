"""Pages in room search: the pages a member sees, as the menu shows them, found through the
text index of their documents (`search/texts.py`)."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, can
from twinspace_rt.pages import audience, tree
from twinspace_rt.search import texts
from twinspace_rt.storage.document_models import Document


def sql(postgres: bool) -> str:
    return texts.hits_sql(postgres, "pages", "document_id")


async def readable(tx: AsyncSession, member: Member) -> list[int]:
    """The documents of the pages the member sees, with their index rows brought up to date."""
    if not can(member, Action.page_read):
        return []
    pages = await tree.load(tx, member.project_id)
    seen = audience.of(member)
    visible = [p for p in pages.by_id.values() if audience.visible(seen, p, pages.by_id)]
    documents = {
        d.id: d
        for d in await tx.exec(
            select(Document).where(col(Document.id).in_([p.document_id for p in visible]))
        )
    }
    await texts.refresh(
        tx, member.project_id, [(documents[p.document_id], p.title) for p in visible]
    )
    return [p.document_id for p in visible]


def hit(row: Any, snippet: str) -> dict[str, Any]:
    return {
        "kind": "page",
        "id": row[0],
        "created_at": row[1],
        "author_id": row[2],
        "title": row[3],
        "snippet": snippet,
        "document_id": row[5],
    }
