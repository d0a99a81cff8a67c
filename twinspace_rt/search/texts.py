"""The text index of documents (``doc_texts``): what the engines search of a page or of a
document of the Documents list, kept current at search time.

A document's body is a Yjs document, which neither FTS5 nor ``tsvector`` can read. Before a
search, the rows of the documents the member may read are brought up to date (renamed, or edited
since: ``documents.last_edited_at`` moved), so a search never misses what was written and no
document edit waits for an index. A room holds tens of documents and only changed ones are
rendered again. Rows of documents that are gone or deleted are dropped on the way.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pycrdt import Doc
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.documents import store
from twinspace_rt.documents.content import Format, render
from twinspace_rt.documents.guard import apply
from twinspace_rt.storage.document_models import Document, DocUpdate
from twinspace_rt.storage.rows import upsert
from twinspace_rt.storage.search_models import DocText

BODY_MAX = 200_000  # characters of a document's text that are searched


def hits_sql(postgres: bool, table: str, link: str) -> str:
    """The hits among the documents ``:docs``, whose owning rows (``table``, joined on its
    column ``link``) give the id, time and author; newest document first, keyset-paged by the
    document's id (the last column)."""
    if postgres:
        return f"""
SELECT o.id, o.created_at, o.created_by, t.title,
       ts_headline('simple', t.body, q.query, :options), t.document_id
FROM doc_texts t JOIN {table} o ON o.{link} = t.document_id,
     to_tsquery('simple', :query) AS q(query)
WHERE to_tsvector('simple', t.title || ' ' || t.body) @@ q.query AND t.document_id IN :docs
  AND t.document_id < :before
ORDER BY t.document_id DESC LIMIT :limit
"""
    return f"""
SELECT o.id, o.created_at, o.created_by, t.title, highlight(doc_fts, 1, :start, :stop),
       t.document_id
FROM doc_fts JOIN doc_texts t ON t.document_id = doc_fts.rowid
JOIN {table} o ON o.{link} = t.document_id
WHERE doc_fts MATCH :query AND doc_fts.rowid IN :docs AND doc_fts.rowid < :before
ORDER BY doc_fts.rowid DESC LIMIT :limit
"""


async def refresh(tx: AsyncSession, project_id: int, titled: list[tuple[Document, str]]) -> None:
    """Brings the rows of these documents (each with the title it is seen under) up to date."""
    indexed = {
        t.document_id: t
        for t in await tx.exec(select(DocText).where(DocText.project_id == project_id))
    }
    alive = set(
        await tx.exec(
            select(Document.id).where(
                Document.project_id == project_id, col(Document.deleted_at).is_(None)
            )
        )
    )
    gone = [document_id for document_id in indexed if document_id not in alive]
    if gone:
        await tx.exec(delete(DocText).where(col(DocText.document_id).in_(gone)))
    for document, title in titled:
        assert document.id is not None
        row = indexed.get(document.id)
        edited = row is None or row.edited_at != document.last_edited_at
        if row is not None and not edited and row.title == title:
            continue
        body = await _text(tx, document) if edited or row is None else row.body
        values = {"title": title, "body": body, "edited_at": document.last_edited_at}
        await upsert(
            tx, DocText, ["document_id"], values, document_id=document.id, project_id=project_id
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
