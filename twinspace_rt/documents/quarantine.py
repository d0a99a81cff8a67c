"""Stored updates that do not apply: moved out of a document's content into ``doc_quarantine``.

Before issue 12 an update was logged as soon as it decoded; one that then panicked on apply
made its document unloadable for good. Loading now skips such rows (`store.replay`) and moves
them here, in one transaction with their removal from the log, so the loss is recorded rather
than silent; `twinspace-rt docs check` lists them without writing and `docs repair` moves them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Connection, delete, select, update

from twinspace_rt.storage.document_models import DocQuarantine, Document, DocUpdate
from twinspace_rt.storage.engine import Database

log = logging.getLogger(__name__)

DOCUMENTS = Document.__table__  # type: ignore[attr-defined]
UPDATES = DocUpdate.__table__  # type: ignore[attr-defined]
QUARANTINE = DocQuarantine.__table__  # type: ignore[attr-defined]
_ROWS_PER_STATEMENT = 500


@dataclass(frozen=True)
class Skipped:
    """A part of a stored document that does not apply: a log row, or the snapshot (None)."""

    row_id: int | None
    reason: str


async def move(
    db: Database, document_id: int, snapshot_version: int, skipped: list[Skipped]
) -> int:
    """Moves what was skipped into the quarantine; returns how many parts it moved (another
    node may have moved some first). The loss is logged."""
    moved = await db.run_sync(partial(_move, document_id, snapshot_version, skipped))
    if moved:
        log.warning(
            "document %s: %d stored part(s) do not apply and were quarantined: %s",
            document_id,
            moved,
            "; ".join(f"row {s.row_id or 'snapshot'}: {s.reason}" for s in skipped),
        )
    return moved


def _move(
    document_id: int, snapshot_version: int, skipped: list[Skipped], connection: Connection
) -> int:
    moved = move_rows(connection, document_id, [s for s in skipped if s.row_id is not None])
    snapshot = [s for s in skipped if s.row_id is None]
    if snapshot:
        moved += _move_snapshot(connection, document_id, snapshot_version, snapshot[0].reason)
    return moved


def move_rows(connection: Connection, document_id: int, skipped: list[Skipped]) -> int:
    """Deletes the rows, then keeps what the deletion returned: a row another transaction
    moved first is deleted by nobody here, so it is never quarantined twice."""
    reasons = {s.row_id: s.reason for s in skipped}
    ids = list(reasons)
    now = datetime.now(UTC)
    moved = 0
    for start in range(0, len(ids), _ROWS_PER_STATEMENT):
        rows = connection.execute(
            delete(UPDATES)
            .where(
                UPDATES.c.document_id == document_id,
                UPDATES.c.id.in_(ids[start : start + _ROWS_PER_STATEMENT]),
            )
            .returning(UPDATES.c.id, UPDATES.c.data, UPDATES.c.user_id, UPDATES.c.created_at)
        ).all()
        if rows:
            connection.execute(
                QUARANTINE.insert(),
                [
                    {
                        "document_id": document_id,
                        "update_id": row.id,
                        "data": row.data,
                        "user_id": row.user_id,
                        "created_at": row.created_at,
                        "quarantined_at": now,
                        "reason": reasons[row.id],
                    }
                    for row in rows
                ],
            )
        moved += len(rows)
    return moved


def _move_snapshot(
    connection: Connection, document_id: int, snapshot_version: int, reason: str
) -> int:
    """A snapshot that does not apply is kept aside and the document starts from its log."""
    head = connection.execute(
        select(DOCUMENTS.c.snapshot).where(
            DOCUMENTS.c.id == document_id, DOCUMENTS.c.snapshot_version == snapshot_version
        )
    ).one_or_none()
    if head is None:  # compacted meanwhile: the new snapshot was made from what applies
        return 0
    connection.execute(
        update(DOCUMENTS)
        .where(DOCUMENTS.c.id == document_id)
        .values(snapshot=b"", snapshot_version=snapshot_version + 1)
    )
    connection.execute(
        QUARANTINE.insert(),
        [
            {
                "document_id": document_id,
                "update_id": None,
                "data": head.snapshot,
                "user_id": None,
                "created_at": None,
                "quarantined_at": datetime.now(UTC),
                "reason": reason,
            }
        ],
    )
    return 1
