"""The database: the async engine and its unit of work, and the hot write path under them.

``Database.transaction()`` is one unit of work for ordinary multi-row writes. The hot writes
(chat posts, document updates) go another way, both parts of which live here so that a write
can be followed from the feature to the disk in one file:

- **Group commit** (``GroupCommit``): the writes that arrive while a commit runs share the next
  transaction, run by ``Database.run_sync`` as plain synchronous code.
- **On SQLite, inline** (``SQLiteWriter``): that transaction runs in the event loop on a
  connection that never waits, or on the writer thread when another connection holds the lock.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

import sqlalchemy
from sqlalchemy import URL, Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt import observability
from twinspace_rt.errors import AppError, ErrorCode

T = TypeVar("T")
Item = TypeVar("Item")
Result = TypeVar("Result")

log = logging.getLogger(__name__)


def create_engine(url: str) -> AsyncEngine:
    """SQLite gets WAL, foreign keys and a busy timeout so concurrent writers wait, not fail."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30})
    event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_writer(url: str) -> SQLiteWriter | None:
    """For ``Database.run_sync``: None for other databases and for an in-memory SQLite (a
    second connection would see another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return SQLiteWriter(parsed, _sqlite_pragmas)


class Database:
    """Owns the engine; hands out sessions that commit whole or not at all."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._sqlite_writer = _sqlite_writer(url)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Everything done inside commits together; an exception rolls all of it back."""
        async with self._sessions() as tx, tx.begin():
            yield tx

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as tx:
            yield tx

    async def run_sync(self, work: Callable[[Connection], T]) -> T:
        """Runs ``work`` as one transaction of plain synchronous code, for the hot write paths
        (chat posts, document updates): on SQLite through ``SQLiteWriter``, which explains why;
        elsewhere on the async driver (``AsyncConnection.run_sync``). ``work`` may run twice,
        so it must only touch the database and its own results."""
        if self._sqlite_writer is not None:
            return await self._sqlite_writer.run(work)
        async with self.engine.begin() as connection:
            return await connection.run_sync(work)

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")

    async def close(self) -> None:
        await self.engine.dispose()
        writer, self._sqlite_writer = self._sqlite_writer, None
        if writer is not None:
            await writer.close()


CHECKPOINT_EVERY = 100
_SQLITE_BUSY = 5
_SQLITE_LOCKED = 6


class SQLiteWriter:
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


class GroupCommit(Generic[Item, Result]):
    """Group commit by natural batching: the first write of an idle period is committed at once,
    and the writes that arrive while a commit runs form the next batch (PostgreSQL's own group
    commit works this way). There is no timer: at low load a write never waits for company that
    is not coming, and under load batches grow by themselves, because commits take longer
    than the gaps between writes.

    On SQLite a batch usually commits inline without giving the event loop back
    (``SQLiteWriter``), so nothing arrives during a commit: a batch is what the sockets read in
    one turn of the loop, or two once the load is on (the previous batch had company), which
    at 600 chat posts/s cut the node's CPU from 81 to 70 % of a core. On PostgreSQL the commit
    awaits the server, and everything read meanwhile waits for the next batch.

    A busy node then pays one commit per batch rather than one per write. Each submitter still gets
    its own answer, in its own future: the batch function returns one result or one exception per
    item, in order. Batches are committed one at a time, in submission order, so each submitter's
    writes are stored in the order it submitted them. Used by chat posts (`chat/writer.py`) and
    document updates (`documents/registry.py`).

    One writer task serves every submitter of a node, so nothing may stop it: a batch whose commit
    raises anything but cancellation (a Rust panic from pycrdt is a ``BaseException``) fails that
    batch's submitters only, and a supervisor starts a new writer if the task ever dies anyway,
    failing the submitters of the batch it held; what is still queued is served by the new one.
    """

    def __init__(
        self,
        commit: Callable[[list[Item]], Awaitable[list[Result | Exception]]],
        batch_max: int = 500,
        name: str = "other",
    ) -> None:
        self._name = name  # the `writer` label of its metrics
        self._commit = commit
        self._batch_max = batch_max
        self._queue: list[tuple[Item, asyncio.Future[Result]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: list[tuple[Item, asyncio.Future[Result]]] = []
        self._stopping = False
        self.batches = 0  # taken so far: how tests tell which batch an item went in
        self.restarts = 0

    async def submit(self, item: Item) -> Result:
        """Returns once the item's batch is committed, or raises the item's refusal."""
        return await self.enqueue(item)

    def enqueue(self, item: Item) -> asyncio.Future[Result]:
        """Queues the item now, behind everything queued before it; the future settles once its
        batch is committed. For a caller that goes on before the commit (a socket's reader
        taking its next message) but needs its items committed in order."""
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        if self._stopping:
            done.set_exception(AppError(ErrorCode.internal_error, "Server shutting down."))
            return done
        if self._task is None or self._task.done():
            self._start()
        self._queue.append((item, done))
        self._wakeup.set()
        return done

    async def close(self, drain: bool) -> None:
        """Stops after the batch in flight, which is never cut off: its writes may already be
        committed, and their submitters must hear so. What is still queued is then committed
        (``drain``) or refused."""
        self._stopping = True
        if self._task is not None:
            self._wakeup.set()
            await asyncio.wait([self._task])  # a writer that died must not stop the shutdown
            self._task = None
            self._fail(self._in_flight)
            self._in_flight = []
        if drain:
            while self._queue:
                await self._take_batch()
        for _, done in self._queue:
            done.set_exception(AppError(ErrorCode.internal_error, "Server shutting down."))
        self._queue.clear()

    def _start(self) -> None:
        self._task = asyncio.create_task(self._run())
        self._task.add_done_callback(self._supervise)

    def _supervise(self, task: asyncio.Task[None]) -> None:
        """The writer ended. Unless it was told to stop, it died: the batch it held fails
        cleanly and a new writer serves the queue. A cancelled writer (the loop is closing) is
        not restarted here; the next `enqueue` starts one if anyone still submits."""
        if self._stopping or task is not self._task:
            return
        self._fail(self._in_flight)
        self._in_flight = []
        if task.cancelled():
            return
        log.error("group commit: the writer died; starting a new one", exc_info=task.exception())
        self.restarts += 1
        self._start()
        self._wakeup.set()

    @staticmethod
    def _fail(batch: list[tuple[Item, asyncio.Future[Result]]]) -> None:
        for _, done in batch:
            if not done.done():
                done.set_exception(AppError(ErrorCode.internal_error))

    async def _run(self) -> None:
        """Sleeps only while nothing is queued; a write queued during a commit is taken as soon
        as that commit has answered its submitters."""
        crowded = False  # the last batch had company: the load is on
        while not self._stopping:
            if not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
                continue
            if crowded:
                # On SQLite a batch commits without giving the loop back, so nothing arrives
                # "during" it; under load, one more turn of the loop lets every socket read in
                # that turn join the batch. A lone write after a quiet spell never waits.
                await asyncio.sleep(0)
            crowded = len(self._queue) > 1
            await self._take_batch()

    async def _take_batch(self) -> None:
        batch = self._queue[: self._batch_max]
        del self._queue[: self._batch_max]
        started = time.perf_counter()
        self._in_flight = batch
        self.batches += 1
        try:
            results = await self._commit([item for item, _ in batch])
        except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
            raise
        except BaseException:  # noqa: B036 - a Rust panic must not end the writer
            log.exception("group commit: a batch of %d failed", len(batch))
            results = [AppError(ErrorCode.internal_error)] * len(batch)
        observability.batch_committed(self._name, len(batch), time.perf_counter() - started)
        for (_, done), result in zip(batch, results, strict=True):
            if done.done():
                continue
            if isinstance(result, Exception):
                done.set_exception(result)
            else:
                done.set_result(result)
        self._in_flight = []
