"""The SQLite hot-write path (`storage/engine.py:SQLiteWriter`): inline when it can be, never blocking
the event loop on a lock, and checkpointing off the loop so the write-ahead log stays short."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, event, text

from tests.support.waiting import WAIT
from twinspace_rt.storage.engine import CHECKPOINT_EVERY, Database


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
        release.wait(WAIT)
        connection.execute("COMMIT")
        connection.close()

    holder = threading.Thread(target=other_writer)
    holder.start()
    assert await asyncio.to_thread(locked.wait, WAIT)
    write = asyncio.create_task(db.run_sync(_insert(b"\x02")))
    # Ten turns of the loop: a write that blocked the loop would be over (failed on the lock)
    # before the first turn came round.
    for _ in range(10):
        await asyncio.sleep(0.01)
    assert not write.done(), "the write must wait for the other writer's lock, off the loop"
    release.set()
    await asyncio.wait_for(write, WAIT)
    holder.join(WAIT)
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


@pytest.fixture
async def checkpoints() -> AsyncIterator[asyncio.Queue[tuple[int, int, int]]]:
    """SQLite's own answer to every ``PRAGMA wal_checkpoint`` any engine runs: (busy, frames in
    the log, frames copied back into the database). The writer never reads that row itself."""
    loop = asyncio.get_running_loop()
    answers: asyncio.Queue[tuple[int, int, int]] = asyncio.Queue()

    def observe(_conn: Any, cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("PRAGMA wal_checkpoint"):
            busy, log, copied = cursor.fetchone()
            loop.call_soon_threadsafe(answers.put_nowait, (busy, log, copied))

    event.listen(Engine, "after_cursor_execute", observe)
    yield answers
    event.remove(Engine, "after_cursor_execute", observe)


async def test_the_write_ahead_log_is_checkpointed_while_writes_run_inline(
    db: Database, tmp_path: Path, checkpoints: asyncio.Queue[tuple[int, int, int]]
) -> None:
    """Inline writes never checkpoint themselves; without the writer thread's checkpoint every
    ``CHECKPOINT_EVERY`` commits the log would hold every page ever written. The test waits
    for each checkpoint instead of racing it, so the bound holds however slow the thread is."""
    rounds = 20
    body = bytes(4096)
    logged: list[int] = []
    for _ in range(rounds):
        for _ in range(CHECKPOINT_EVERY - 1):
            await db.run_sync(_insert(body))
        assert checkpoints.empty(), "no checkpoint before CHECKPOINT_EVERY inline commits"
        await db.run_sync(_insert(body))
        busy, log, copied = await asyncio.wait_for(checkpoints.get(), WAIT)
        assert (busy, copied) == (0, log), "the whole log is copied back, so it starts over"
        logged.append(log)
    # Each round's log holds that round's commits only: the log started over every time.
    assert max(logged) < 2 * min(logged), logged
    async with db.engine.connect() as connection:
        page_size = (await connection.exec_driver_sql("PRAGMA page_size")).scalar_one()
        count = (await connection.exec_driver_sql("SELECT count(*) FROM notes")).scalar_one()
    assert count == rounds * CHECKPOINT_EVERY
    # The file never held more than the longest round: a header, then frames of a page each.
    wal = tmp_path / "hot.db-wal"
    assert wal.stat().st_size <= 32 + max(logged) * (24 + page_size), (wal.stat().st_size, logged)
