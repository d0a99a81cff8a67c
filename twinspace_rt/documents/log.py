"""The documents' update log: accepted Yjs updates, appended by group commit.

Updates that arrive within a few milliseconds, from any socket and any document, share one
transaction (`storage/group_commit.py`), so a busy node pays one commit per batch rather than one
per keystroke. Each update is relayed by its ``then`` callback, which the batch runs right after
the commit, in the order the updates arrived: never before the commit, and never skipped because
the socket that sent the update closed meanwhile (its reader may be cancelled, the batch is not).

One document's failure stays in that document: a batch that cannot be written is written again
document by document, so only the updates of the document that fails are refused (their
clients resend on reconnect); and each relay runs on its own, so one that raises, even a Rust
panic, neither skips the others nor reaches the shared writer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from sqlalchemy import Connection, bindparam, func, update

from twinspace_rt.documents.store import DOCUMENTS, UPDATES
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.group_commit import GroupCommit

log = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class _Append:
    document_id: int
    data: bytes
    user_id: int | None
    then: AfterCommit


class UpdateLog:
    def __init__(self, db: Database, window: float) -> None:
        self._db = db
        self._batches: GroupCommit[_Append, None] = GroupCommit(
            self._commit, window, name="documents"
        )

    def append(
        self, document_id: int, data: bytes, user_id: int | None, then: AfterCommit
    ) -> asyncio.Future[None]:
        """Queues the update behind every update queued before it. The future settles once it
        is committed and ``then`` has run, or with an ``AppError`` if it could not be."""
        return self._batches.enqueue(_Append(document_id, data, user_id, then))

    async def close(self) -> None:
        """Commits what is queued, then stops."""
        await self._batches.close(drain=True)

    async def _commit(self, batch: list[_Append]) -> list[None | Exception]:
        results: list[None | Exception] = [None] * len(batch)
        try:
            await self._db.run_sync(partial(_write, batch, datetime.now(UTC)))
        except Exception:
            log.exception(
                "documents: a batch of %d updates failed; retrying per document", len(batch)
            )
            results = await self._commit_apart(batch)
        for append, result in zip(batch, results, strict=True):
            if result is not None:
                continue
            try:
                await append.then()
            except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
                raise
            except BaseException:  # noqa: B036 - stored all the same; other nodes re-read
                log.exception("document %s: relaying a stored update failed", append.document_id)
        return results

    async def _commit_apart(self, batch: list[_Append]) -> list[None | Exception]:
        """Each document's updates in a transaction of their own."""
        failed: dict[int, Exception] = {}
        for document_id in dict.fromkeys(a.document_id for a in batch):
            mine = [a for a in batch if a.document_id == document_id]
            try:
                await self._db.run_sync(partial(_write, mine, datetime.now(UTC)))
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


def _write(batch: list[_Append], now: datetime, connection: Connection) -> None:
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
