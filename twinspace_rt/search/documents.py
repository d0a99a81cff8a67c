"""Documents of the Documents list in room search: those the member may open, found through
the text index of documents (`search/texts.py`) by title and text."""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, can
from twinspace_rt.documents import catalog
from twinspace_rt.search import texts


def sql(postgres: bool) -> str:
    return texts.hits_sql(postgres, "documents", "id")


async def readable(tx: AsyncSession, member: Member) -> list[int]:
    """The ids of the documents the member may open, with their index rows up to date."""
    if not can(member, Action.doc_read):
        return []
    listed = await catalog.listed(tx, member)
    await texts.refresh(tx, member.project_id, [(d, d.title) for d in listed])
    return [d.id for d in listed if d.id is not None]


def hit(row: Any, snippet: str) -> dict[str, Any]:
    return {
        "kind": "document",
        "id": row[0],
        "created_at": row[1],
        "author_id": row[2],
        "title": row[3],
        "snippet": snippet,
        "document_id": row[5],
    }
