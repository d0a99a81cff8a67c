"""Hot write transactions on SQLite (chat batches, document-update batches), run where they cost
least.

Such a transaction is a few hundred microseconds of CPU: in WAL mode with ``synchronous=NORMAL``
a commit appends to the log without an fsync. Through aiosqlite every cursor, execute, fetch
and close was a hop to the driver's thread; even one hop per transaction costs two thread
wake-ups (about 0.1 ms of CPU each on the 2-core VM) and GIL hand-overs, more than the SQL.
So a transaction first runs inline, in the event loop, on a connection that never waits: its
busy timeout is zero and it never checkpoints. If another connection holds the write lock,
the whole transaction runs again on the writer thread, whose connection waits like any other.
Checkpoints, which do fsync, also run on that thread, every ``CHECKPOINT_EVERY`` inline
commits. They are ``RESTART`` checkpoints: a passive one never catches up with a steady stream
of commits, so the log would grow without end; this one holds writers back (inline batches then
go to the thread and wait there) until the log starts over.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

import sqlalchemy
from sqlalchemy import URL, Connection, event
from sqlalchemy.exc import OperationalError

T = TypeVar("T")

log = logging.getLogger(__name__)

CHECKPOINT_EVERY = 100
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6


class SQLiteWriter:
    def __init__(self, url: URL, on_connect: Callable[[Any, Any], None]) -> None:
        self._engine = sqlalchemy.create_engine(
            url.set(drivername="sqlite"),
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_size=2,
        )
        event.listen(self._engine, "connect", on_connect)
        self._thread = ThreadPoolExecutor(1, "sqlite-writer")
        self._inline: Connection | None = None
        self._waiting: Connection | None = None
        self._commits = 0
        self._checkpoint: Future[None] | None = None

    async def run(self, work: Callable[[Connection], T]) -> T:
        """Runs ``work`` as one transaction; it may run twice, so it must only touch the
        database and its own results."""
        try:
            result = _transaction(self._inline_connection(), work)
        except OperationalError as error:
            if _code(error) not in (_SQLITE_BUSY, _SQLITE_LOCKED):
                raise
            return await asyncio.get_running_loop().run_in_executor(
                self._thread, self._run_waiting, work
            )
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0 and (
            self._checkpoint is None or self._checkpoint.done()
        ):
            self._checkpoint = self._thread.submit(self._run_checkpoint)
        return result

    async def close(self) -> None:
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        await asyncio.get_running_loop().run_in_executor(self._thread, self._close_thread)
        self._thread.shutdown()

    def _inline_connection(self) -> Connection:
        if self._inline is None or self._inline.invalidated:
            self._inline = self._engine.connect()
            self._inline.exec_driver_sql("PRAGMA busy_timeout=0")
            self._inline.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
            self._inline.commit()
        return self._inline

    def _waiting_connection(self) -> Connection:
        if self._waiting is None:
            self._waiting = self._engine.connect()
        return self._waiting

    def _run_waiting(self, work: Callable[[Connection], T]) -> T:
        return _transaction(self._waiting_connection(), work)

    def _run_checkpoint(self) -> None:
        """A failed checkpoint loses nothing (the log only grows until the next one)."""
        try:
            connection = self._waiting_connection()
            connection.exec_driver_sql("PRAGMA wal_checkpoint(RESTART)")
            connection.commit()
        except Exception:
            log.exception("sqlite: checkpoint failed")

    def _close_thread(self) -> None:
        if self._waiting is not None:
            self._waiting.close()
            self._waiting = None
        self._engine.dispose()


def _transaction(connection: Connection, work: Callable[[Connection], T]) -> T:
    with connection.begin():
        return work(connection)


def _code(error: OperationalError) -> int | None:
    code = getattr(error.orig, "sqlite_errorcode", None)
    if isinstance(error.orig, sqlite3.OperationalError) and isinstance(code, int):
        return code & 0xFF
    return None
