"""The async engine and the unit of work: one ``transaction()`` per multi-row write."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.storage.sqlite_writer import SQLiteWriter

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
