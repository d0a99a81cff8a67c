"""A time budget for one search, enforced by the database itself.

A search costs what the engine spends matching and highlighting, which depends on what was
written, not on who asks: a handful of one-letter words over 30 long posts of short words kept
SQLite busy for over a minute. So each search gets ``search_timeout_ms`` in all: PostgreSQL
cancels a statement past its ``statement_timeout`` (``SET LOCAL``, so only this transaction is
affected), and SQLite calls a progress handler that interrupts the statement once the time is
spent. Either way the member gets ``search_timeout``, and nothing is logged as a fault.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import Executable
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.errors import AppError, ErrorCode

# SQLite asks the handler every this many virtual-machine steps: often enough to stop within
# milliseconds, rarely enough to cost nothing measurable.
_PROGRESS_STEPS = 100
_QUERY_CANCELED = "57014"


class TimeBound:
    """Runs a search's statements within what is left of its budget."""

    def __init__(self, connection: AsyncConnection, budget_ms: int) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.ends = time.monotonic() + budget_ms / 1000
        # Cleared when the search ends, so a handler left behind never interrupts other work.
        self.active = True

    def expired(self) -> int:
        """SQLite's progress handler: non-zero interrupts the running statement."""
        return int(self.active and time.monotonic() > self.ends)

    async def execute(self, statement: Executable, params: dict[str, Any]) -> list[Any]:
        left_ms = int((self.ends - time.monotonic()) * 1000)
        if left_ms < 1:
            raise AppError(ErrorCode.search_timeout)
        try:
            if self.postgres:
                await self.connection.exec_driver_sql(f"SET LOCAL statement_timeout = {left_ms}")
            found = await self.connection.execute(statement, params)
            return list(found.all())
        except DBAPIError as exc:
            if _timed_out(exc):
                raise AppError(ErrorCode.search_timeout) from exc
            raise


def _timed_out(exc: DBAPIError) -> bool:
    if getattr(exc.orig, "sqlstate", None) == _QUERY_CANCELED:
        return True
    return "interrupted" in str(exc.orig)


@asynccontextmanager
async def time_bound(tx: AsyncSession, budget_ms: int) -> AsyncIterator[TimeBound]:
    """The search's session connection, bounded by ``budget_ms`` in all."""
    connection = await tx.connection()
    bound = TimeBound(connection, budget_ms)
    if bound.postgres:
        yield bound
        return
    raw = await connection.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.set_progress_handler(bound.expired, _PROGRESS_STEPS)
    try:
        yield bound
    finally:
        bound.active = False
        await driver.set_progress_handler(None, 0)
