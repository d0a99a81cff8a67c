"""Pages in room search: the pages a member sees, their text index, and the engine's hits.

A page's body is a Yjs document, which neither FTS5 nor ``tsvector`` can read. ``page_texts``
keeps each page's title and plain text; before a search, the rows of the pages the member sees
are brought up to date (a page renamed, or its document edited since: ``documents.
last_edited_at`` moved), so a search never misses what was written and no document edit waits
for an index. A menu is tens of pages and only changed ones are rendered again.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pycrdt import Doc
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, can
from twinspace_rt.documents import store
from twinspace_rt.documents.content import Format, render
from twinspace_rt.documents.guard import apply
from twinspace_rt.pages import audience, tree
from twinspace_rt.storage.document_models import Document, DocUpdate
from twinspace_rt.storage.page_models import Page
from twinspace_rt.storage.search_models import PageText

BODY_MAX = 200_000  # characters of a page's text that are searched

PAGES_SQLITE = """
SELECT p.id, p.created_at, p.created_by, p.title, highlight(page_fts, 1, :start, :stop)
FROM page_fts JOIN pages p ON p.id = page_fts.rowid
WHERE page_fts MATCH :query AND p.id IN :pages AND page_fts.rowid < :before
ORDER BY page_fts.rowid DESC LIMIT :limit
"""
PAGES_POSTGRES = """
SELECT p.id, p.created_at, p.created_by, p.title, ts_headline('simple', t.body, q.query, :options)
FROM page_texts t JOIN pages p ON p.id = t.page_id, to_tsquery('simple', :query) AS q(query)
WHERE to_tsvector('simple', t.title || ' ' || t.body) @@ q.query AND t.page_id IN :pages
  AND t.page_id < :before
ORDER BY t.page_id DESC LIMIT :limit
"""


async def readable(tx: AsyncSession, member: Member) -> list[Page]:
    """The pages the member sees (as in the menu), with their index rows brought up to date."""
    if not can(member, Action.page_read):
        return []
    pages = await tree.load(tx, member.project_id)
    seen = audience.of(member)
    visible = [p for p in pages.by_id.values() if audience.visible(seen, p, pages.by_id)]
    await _refresh(tx, member.project_id, visible, set(pages.by_id))
    return visible


def hit(row: Any, snippet: str) -> dict[str, Any]:
    return {
        "kind": "page",
        "id": row[0],
        "created_at": row[1],
        "author_id": row[2],
        "title": row[3],
        "snippet": snippet,
    }


async def _refresh(tx: AsyncSession, project_id: int, pages: list[Page], alive: set[int]) -> None:
    indexed = {
        t.page_id: t
        for t in await tx.exec(select(PageText).where(PageText.project_id == project_id))
    }
    gone = [page_id for page_id in indexed if page_id not in alive]
    if gone:
        await tx.exec(delete(PageText).where(col(PageText.page_id).in_(gone)))
    documents = {
        d.id: d
        for d in await tx.exec(
            select(Document).where(col(Document.id).in_([p.document_id for p in pages]))
        )
    }
    for page in pages:
        document = documents[page.document_id]
        row = indexed.get(page.id or 0)
        if row and row.title == page.title and row.edited_at == document.last_edited_at:
            continue
        edited = row is None or row.edited_at != document.last_edited_at
        body = await _text(tx, document) if edited or row is None else row.body
        values = {"title": page.title, "body": body, "edited_at": document.last_edited_at}
        insert = postgresql.insert if tx.get_bind().dialect.name == "postgresql" else sqlite.insert
        await tx.exec(
            insert(PageText)
            .values(page_id=page.id, project_id=project_id, **values)
            .on_conflict_do_update(index_elements=["page_id"], set_=values)
        )


async def _text(tx: AsyncSession, document: Document) -> str:
    """The document's plain text, as its `format=text` rendering; the log first, then the
    snapshot, as `documents/store.py` reads them (a compaction in between repeats, never
    loses)."""
    assert document.id is not None
    rows = (
        await tx.exec(
            select(DocUpdate.id, DocUpdate.data)
            .where(DocUpdate.document_id == document.id)
            .order_by(col(DocUpdate.id))
        )
    ).all()
    await tx.refresh(document, ["snapshot", "snapshot_version"])
    stored = store.Stored(
        document.snapshot,
        document.snapshot_version,
        [r[0] for r in rows if r[0] is not None],
        [bytes(r[1]) for r in rows],
    )
    return await asyncio.to_thread(_render, stored, document.kind)


def _render(stored: store.Stored, kind: str) -> str:
    doc: Doc[Any] = Doc()
    apply(doc, store.replay(stored).update, "the stored state")
    return render(doc, kind, Format.text)[:BODY_MAX]
