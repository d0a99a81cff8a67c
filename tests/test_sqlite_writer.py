"""The SQLite hot-write path (`storage/sqlite_writer.py`): inline when it can be, never blocking
the event loop on a lock, and checkpointing off the loop so the write-ahead log stays short."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.sqlite_writer import CHECKPOINT_EVERY


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'hot.db'}")
    async with database.engine.begin() as connection:
        await connection.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body BLOB)")
    yield database
    await database.close()


def _insert(body: bytes) -> Callable[[Connection], int]:
    def work(connection: Connection) -> int:
        result = connection.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": body})
        return int(result.lastrowid or 0)

    return work


async def test_a_write_blocked_by_another_writer_waits_off_the_event_loop(
    db: Database, tmp_path: Path
) -> None:
    locked = threading.Event()
    release = threading.Event()

    def other_writer() -> None:
        connection = sqlite3.connect(tmp_path / "hot.db", isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO notes (body) VALUES (x'01')")
        locked.set()
        release.wait(10)
        connection.execute("COMMIT")
        connection.close()

    holder = threading.Thread(target=other_writer)
    holder.start()
    assert await asyncio.to_thread(locked.wait, 10)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticking = asyncio.create_task(ticker())
    write = asyncio.create_task(db.run_sync(_insert(b"\x02")))
    await asyncio.sleep(0.5)
    assert not write.done(), "the write must wait for the other writer's lock"
    assert ticks >= 10, "the event loop must keep running while the write waits"
    release.set()
    await asyncio.wait_for(write, 10)
    ticking.cancel()
    holder.join(10)
    async with db.engine.connect() as connection:
        bodies = (await connection.exec_driver_sql("SELECT body FROM notes ORDER BY id")).all()
    assert [bytes(row.body) for row in bodies] == [b"\x01", b"\x02"]


async def test_a_failing_transaction_writes_nothing(db: Database) -> None:
    def half_then_fail(connection: Connection) -> None:
        connection.execute(text("INSERT INTO notes (body) VALUES (x'03')"))
        raise RuntimeError("refused halfway")

    with pytest.raises(RuntimeError):
        await db.run_sync(half_then_fail)
    await db.run_sync(_insert(b"\x04"))
    async with db.engine.connect() as connection:
        bodies = (await connection.exec_driver_sql("SELECT body FROM notes")).all()
    assert [bytes(row.body) for row in bodies] == [b"\x04"]


async def test_the_write_ahead_log_is_checkpointed_while_writes_run_inline(
    db: Database, tmp_path: Path
) -> None:
    """Inline writes never checkpoint themselves; without the writer thread's checkpoints the
    log would hold every page ever written: about three times the data (24 MiB here)."""
    commits = 20 * CHECKPOINT_EVERY
    body = bytes(4096)
    for _ in range(commits):
        await db.run_sync(_insert(body))
        await asyncio.sleep(0)
    wal = tmp_path / "hot.db-wal"
    written = commits * len(body)
    assert wal.stat().st_size < written, (wal.stat().st_size, written)
    async with db.engine.connect() as connection:
        count = (await connection.exec_driver_sql("SELECT count(*) FROM notes")).scalar_one()
    assert count == commits
