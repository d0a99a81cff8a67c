"""A document's durable content: snapshot + log, how it is read, and compaction.

Reading takes the log rows first and the snapshot second. A compaction that commits between
the two deleted only rows whose content its new snapshot holds, so the pair read is always a
superset of what was committed before the read began; CRDT updates are idempotent, so reading
something twice is harmless.

A stored row that does not apply (logged before updates were proven, see `guard.py`) is skipped
by `replay` and moved to ``doc_quarantine`` by whoever can write: loading a room, compaction,
`twinspace-rt docs repair`. The rest of the document is kept.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from pycrdt import Doc
from sqlalchemy import Connection, bindparam, delete, select, update

from twinspace_rt.documents import quarantine
from twinspace_rt.documents.guard import BadUpdate, apply
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


@dataclass
class Replayed:
    """A stored document read into a fresh replica, and what could not be read into it."""

    update: bytes  # everything that applies, as one update
    skipped: list[quarantine.Skipped]


def replay(stored: Stored) -> Replayed:
    """Applies the snapshot, then each row in order; one that does not apply is skipped and the
    replica is rebuilt from what did, since a panic may leave part of an update behind."""
    doc: Doc[Any] = Doc()
    kept: list[bytes] = []
    skipped: list[quarantine.Skipped] = []
    parts: list[tuple[int | None, bytes]] = [(None, stored.snapshot)] if stored.snapshot else []
    parts += list(zip(stored.update_ids, stored.updates, strict=True))
    for row_id, data in parts:
        try:
            apply(doc, data, "the stored update")
        except BadUpdate as exc:
            skipped.append(quarantine.Skipped(row_id, str(exc)[:200]))
            doc = Doc()
            for good in kept:
                apply(doc, good, "the stored update")
            continue
        kept.append(data)
    return Replayed(doc.get_update(), skipped)


def merged(stored: Stored) -> bytes:
    """One update holding all of the content that applies (deleted text garbage-collected)."""
    return replay(stored).update


async def state(db: Database, document_id: int) -> bytes:
    stored = await read(db, document_id)
    return await asyncio.to_thread(merged, stored)


async def load(db: Database, document_id: int) -> tuple[Stored, bytes]:
    """The stored content as one update; rows that do not apply are quarantined, and said so."""
    stored = await read(db, document_id)
    replayed = await asyncio.to_thread(replay, stored)
    if replayed.skipped:
        await quarantine.move(db, document_id, stored.snapshot_version, replayed.skipped)
    return stored, replayed.update


async def compact(db: Database, document_id: int) -> tuple[int, int]:
    """Folds the log into the snapshot; returns the rows and bytes removed (0, 0 if it lost a
    race with another node's compaction, which then did the work)."""
    stored = await read(db, document_id)
    if not stored.update_ids:
        return 0, 0
    replayed = await asyncio.to_thread(replay, stored)
    return await db.run_sync(partial(_fold, document_id, stored, replayed.update, replayed.skipped))


def _fold(
    document_id: int,
    stored: Stored,
    snapshot: bytes,
    skipped: list[quarantine.Skipped],
    connection: Connection,
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
    # Rows the snapshot leaves out are kept aside, not deleted with the others.
    rows = [s for s in skipped if s.row_id is not None]
    quarantine.move_rows(connection, document_id, rows)
    for start in range(0, len(stored.update_ids), 500):
        connection.execute(_DELETE_ROWS, {"ids": stored.update_ids[start : start + 500]})
    return len(stored.update_ids), stored.log_bytes
