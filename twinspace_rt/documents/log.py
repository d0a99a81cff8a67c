"""Group commit of accepted Yjs updates into the documents' update log.

Updates that arrive within a few milliseconds, from any socket and any document, share one
transaction, so a busy node pays one commit per batch rather than one per keystroke. ``append``
returns only once its update is committed: the caller relays it after that, never before. The
pattern is the chat writer's (`chat/writer.py`); updates cannot conflict with each other, so a
failed batch fails every caller in it, and each socket's client resends on reconnect.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import update

from twinspace_rt.documents.store import DOCUMENTS, UPDATES
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.storage.engine import Database

log = logging.getLogger(__name__)


@dataclass
class _Append:
    document_id: int
    data: bytes
    user_id: int | None
    done: asyncio.Future[None]


class UpdateLog:
    def __init__(self, db: Database, window: float = 0.002, batch_max: int = 500) -> None:
        self._db = db
        self._window = window
        self._batch_max = batch_max
        self._queue: list[_Append] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def append(self, document_id: int, data: bytes, user_id: int | None) -> None:
        """Returns once the update is committed; raises ``AppError`` if it could not be."""
        if self._task is None:
            self._task = asyncio.create_task(self._run())
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(_Append(document_id, data, user_id, done))
        self._wakeup.set()
        await done

    async def close(self) -> None:
        """Commits what is queued, then stops."""
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None
        while self._queue:
            await self._take_batch()

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await asyncio.sleep(self._window)
            while self._queue:
                await self._take_batch()

    async def _take_batch(self) -> None:
        batch = self._queue[: self._batch_max]
        del self._queue[: self._batch_max]
        try:
            await self._commit(batch)
        except Exception:
            log.exception("document update log: a batch of %d failed", len(batch))
            for item in batch:
                if not item.done.done():
                    item.done.set_exception(AppError(ErrorCode.internal_error))
            return
        for item in batch:
            if not item.done.done():
                item.done.set_result(None)

    async def _commit(self, batch: list[_Append]) -> None:
        now = datetime.now(UTC)
        async with self._db.engine.begin() as connection:
            await connection.execute(
                UPDATES.insert(),
                [
                    {
                        "document_id": a.document_id,
                        "data": a.data,
                        "user_id": a.user_id,
                        "created_at": now,
                    }
                    for a in batch
                ],
            )
            last_editor = {a.document_id: a.user_id for a in batch}
            for document_id, user_id in sorted(last_editor.items()):
                values: dict[str, object] = {"last_edited_at": now}
                if user_id is not None:
                    values["last_edited_by"] = user_id
                await connection.execute(
                    update(DOCUMENTS).where(DOCUMENTS.c.id == document_id).values(**values)
                )
