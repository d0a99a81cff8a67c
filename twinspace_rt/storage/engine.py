"""The async engine and the unit of work: one ``transaction()`` per multi-row write."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy
from sqlalchemy import Connection, Engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

T = TypeVar("T")


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


def _sqlite_file_engine(url: str) -> Engine | None:
    """A synchronous engine on the same SQLite file, for ``Database.run_sync``; None for other
    databases and for an in-memory one (a second engine would see another database)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    engine = sqlalchemy.create_engine(
        parsed.set(drivername="sqlite"),
        connect_args={"timeout": 30, "check_same_thread": False},
        pool_size=1,
    )
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


class Database:
    """Owns the engine; hands out sessions that commit whole or not at all."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        self._sync_engine = _sqlite_file_engine(url)
        self._sync_thread = ThreadPoolExecutor(1, "sqlite-writer") if self._sync_engine else None
        self._sync_connection: Connection | None = None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """Everything done inside commits together; an exception rolls all of it back."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    async def run_sync(self, work: Callable[[Connection], T]) -> T:
        """Runs ``work`` as one transaction of plain synchronous code, for the hot write paths
        (chat posts, document updates). On SQLite the whole transaction is one hop to a writer
        thread: through aiosqlite every cursor, execute, fetch and close is a hop of its own,
        and at hundreds of batches a second those hops cost more than the SQL. Elsewhere it
        runs on the async driver (``AsyncConnection.run_sync``)."""
        thread = self._sync_thread
        if thread is None:
            async with self.engine.begin() as connection:
                return await connection.run_sync(work)
        return await asyncio.get_running_loop().run_in_executor(thread, self._in_transaction, work)

    def _in_transaction(self, work: Callable[[Connection], T]) -> T:
        """The writer thread keeps its connection: a checkout per batch (and the rollback that
        resets it on return) cost a third as much as the batch's own statements."""
        if self._sync_connection is None:
            assert self._sync_engine is not None
            self._sync_connection = self._sync_engine.connect()
        with self._sync_connection.begin():
            return work(self._sync_connection)

    def _close_sync(self) -> None:
        if self._sync_connection is not None:
            self._sync_connection.close()
            self._sync_connection = None
        assert self._sync_engine is not None
        self._sync_engine.dispose()

    async def ping(self) -> None:
        async with self.engine.connect() as connection:
            await connection.exec_driver_sql("SELECT 1")

    async def close(self) -> None:
        await self.engine.dispose()
        thread, self._sync_thread = self._sync_thread, None
        if thread is not None and self._sync_engine is not None:
            await asyncio.get_running_loop().run_in_executor(thread, self._close_sync)
            thread.shutdown()
