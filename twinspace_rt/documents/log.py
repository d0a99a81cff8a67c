"""The documents' update log: the store step of an update's life, and nothing else.

The registry (`rooms.py`) batches updates from every socket and document into one transaction
by group commit, writes each batch here, and only then relays what was stored.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Connection, bindparam, func, update

from twinspace_rt.documents.store import DOCUMENTS, UPDATES
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.storage.engine import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Append:
    document_id: int
    data: bytes
    user_id: int | None


async def write(db: Database, batch: list[Append]) -> list[Exception | None]:
    """Stores a batch in one transaction; None for each update stored, or why it was not.

    A batch that cannot be written is written again document by document, so only the updates
    of the document that fails are refused (their clients resend on reconnect).
    """
    try:
        await db.run_sync(partial(_write, batch, datetime.now(UTC)))
    except Exception:
        log.exception("documents: a batch of %d updates failed; retrying per document", len(batch))
        return await _write_apart(db, batch)
    return [None] * len(batch)


async def _write_apart(db: Database, batch: list[Append]) -> list[Exception | None]:
    """Each document's updates in a transaction of their own."""
    failed: dict[int, Exception] = {}
    for document_id in dict.fromkeys(a.document_id for a in batch):
        mine = [a for a in batch if a.document_id == document_id]
        try:
            await db.run_sync(partial(_write, mine, datetime.now(UTC)))
        except Exception:
            log.exception("document %s: %d updates could not be stored", document_id, len(mine))
            failed[document_id] = AppError(ErrorCode.internal_error)
    return [failed.get(a.document_id) for a in batch]


# Built once: building the statement per batch cost as much as running it.
_STAMP = (
    update(DOCUMENTS)
    .where(DOCUMENTS.c.id == bindparam("document"))
    .values(
        last_edited_at=bindparam("now"),
        last_edited_by=func.coalesce(bindparam("editor"), DOCUMENTS.c.last_edited_by),
    )
)


def _write(batch: list[Append], now: datetime, connection: Connection) -> None:
    """Inserts the batch, then stamps each document's last edit with one statement run for
    many rows."""
    connection.execute(
        UPDATES.insert(),
        [
            {"document_id": a.document_id, "data": a.data, "user_id": a.user_id, "created_at": now}
            for a in batch
        ],
    )
    last_editor = {a.document_id: a.user_id for a in batch}
    connection.execute(
        _STAMP,
        [{"document": d, "editor": u, "now": now} for d, u in sorted(last_editor.items())],
    )
