"""`twinspace-rt docs check` and `docs repair`: every stored document replayed as a load would.

A node quarantines a poisoned row when it loads the document; these commands find the ones
nobody has opened since, and list them by project, so an operator can tell the teachers
concerned, before (``check``) or while (``repair``) moving them aside.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select

from twinspace_rt.documents import quarantine, store
from twinspace_rt.storage.engine import Database


@dataclass(frozen=True)
class Affected:
    project_id: int
    document_id: int
    name: str
    skipped: list[quarantine.Skipped]

    def describe(self) -> str:
        parts = ", ".join(
            f"{'snapshot' if s.row_id is None else f'row {s.row_id}'} ({s.reason})"
            for s in self.skipped
        )
        return f"project {self.project_id} document {self.document_id} {self.name!r}: {parts}"


async def scan(db: Database, repair: bool) -> list[Affected]:
    """Replays every document, deleted ones included (their rows are still stored); with
    ``repair``, moves what does not apply into the quarantine."""
    documents = store.DOCUMENTS
    async with db.engine.connect() as connection:
        listed = (
            await connection.execute(
                select(documents.c.id, documents.c.project_id, documents.c.name).order_by(
                    documents.c.project_id, documents.c.id
                )
            )
        ).all()
    affected = []
    for row in listed:
        stored = await store.read(db, row.id)
        replayed = await asyncio.to_thread(store.replay, stored)
        if not replayed.skipped:
            continue
        affected.append(Affected(row.project_id, row.id, row.name, replayed.skipped))
        if repair:
            await quarantine.move(db, row.id, stored.snapshot_version, replayed.skipped)
    return affected
