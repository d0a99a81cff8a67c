"""A document's durable content: snapshot + log, how it is read, and compaction.

Reading takes the log rows first and the snapshot second. A compaction that commits between
the two deleted only rows whose content its new snapshot holds, so the pair read is always a
superset of what was committed before the read began; CRDT updates are idempotent, so reading
something twice is harmless.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from pycrdt import Doc
from sqlalchemy import Connection, bindparam, delete, select, update

from twinspace_rt.storage.document_models import Document, DocUpdate
from twinspace_rt.storage.engine import Database

log = logging.getLogger(__name__)

DOCUMENTS = Document.__table__  # type: ignore[attr-defined]
UPDATES = DocUpdate.__table__  # type: ignore[attr-defined]
_DELETE_ROWS = delete(UPDATES).where(UPDATES.c.id.in_(bindparam("ids", expanding=True)))


@dataclass
class Stored:
    snapshot: bytes
    snapshot_version: int
    update_ids: list[int]
    updates: list[bytes]

    @property
    def log_bytes(self) -> int:
        return sum(len(u) for u in self.updates)


async def read(db: Database, document_id: int) -> Stored:
    async with db.engine.connect() as connection:
        rows = (
            await connection.execute(
                select(UPDATES.c.id, UPDATES.c.data)
                .where(UPDATES.c.document_id == document_id)
                .order_by(UPDATES.c.id)
            )
        ).all()
        head = (
            await connection.execute(
                select(DOCUMENTS.c.snapshot, DOCUMENTS.c.snapshot_version).where(
                    DOCUMENTS.c.id == document_id
                )
            )
        ).one()
    return Stored(
        head.snapshot, head.snapshot_version, [r.id for r in rows], [bytes(r.data) for r in rows]
    )


def apply_all(doc: Doc[Any], stored: Stored) -> None:
    """Applies snapshot and log; a row that cannot be applied is logged and skipped."""
    for data in ([stored.snapshot] if stored.snapshot else []) + stored.updates:
        try:
            doc.apply_update(data)
        except ValueError:
            log.exception("document: skipped a stored update that does not apply")


def merged(stored: Stored) -> bytes:
    """One update holding all of the content (deleted text garbage-collected)."""
    doc: Doc[Any] = Doc()
    apply_all(doc, stored)
    return doc.get_update()


async def state(db: Database, document_id: int) -> bytes:
    stored = await read(db, document_id)
    return await asyncio.to_thread(merged, stored)


async def compact(db: Database, document_id: int) -> tuple[int, int]:
    """Folds the log into the snapshot; returns the rows and bytes removed (0, 0 if it lost a
    race with another node's compaction, which then did the work)."""
    stored = await read(db, document_id)
    if not stored.update_ids:
        return 0, 0
    snapshot = await asyncio.to_thread(merged, stored)
    return await db.run_sync(partial(_fold, document_id, stored, snapshot))


def _fold(
    document_id: int, stored: Stored, snapshot: bytes, connection: Connection
) -> tuple[int, int]:
    """The new snapshot and the removal of the log rows it holds, in one transaction. It runs
    on the hot-write path (``Database.run_sync``): through the async engine it held SQLite's
    write lock across a dozen driver round trips, and every edit of every document waited."""
    changed = connection.execute(
        update(DOCUMENTS)
        .where(
            DOCUMENTS.c.id == document_id,
            DOCUMENTS.c.snapshot_version == stored.snapshot_version,
        )
        .values(snapshot=snapshot, snapshot_version=stored.snapshot_version + 1)
    )
    if changed.rowcount != 1:
        return 0, 0
    for start in range(0, len(stored.update_ids), 500):
        connection.execute(_DELETE_ROWS, {"ids": stored.update_ids[start : start + 500]})
    return len(stored.update_ids), stored.log_bytes
