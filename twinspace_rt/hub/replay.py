"""Bringing one socket's view of a stream up to date from the store, without gap or repeat.

A stream is anything whose changes are numbered one by one and sent to every reader: a chat
channel, or a project's forum or bulletin stream. Each subscription's cursor carries the
``Backlog`` that reads its stored changes; replay and catch-up are the same for all of them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.hub.connection import Connection, CursorKey, StreamCursor
from twinspace_rt.storage.engine import Database
from twinspace_rt.ws.transport import OutFrame

log = logging.getLogger(__name__)

REPLAY_WAIT_SECONDS = 10.0


@dataclass
class Pending:
    """Stored changes after a position: ``(number, frame)`` in order, or why there are none."""

    frames: list[tuple[int, str]]
    recovered: bool
    reason: str | None
    last_seq: int


class Backlog(Protocol):
    async def read(self, tx: AsyncSession, since: int | None, most: int) -> Pending:
        """The changes after ``since`` (none for ``None``), at most ``most`` of them."""
        ...

    def resync(self, reason: str) -> str:
        """The push telling a socket that this stream could not be caught up."""
        ...


@dataclass
class Replayed:
    channel: str
    recovered: bool
    reason: str | None
    replayed: int
    last_seq: int

    def ack(self) -> dict[str, Any]:
        """What a subscribe ack says of this stream."""
        return {
            "recovered": self.recovered,
            "reason": self.reason,
            "replayed": self.replayed,
            "last_seq": self.last_seq,
        }


async def replay(
    db: Database, conn: Connection, key: CursorKey, since: int | None, most: int
) -> Replayed:
    """Sends the changes after ``since`` (none for ``None``), then releases held-back live ones.

    The cursor must already be registered and replaying, so that a change committed while the
    store is read is either in the replay or held back; never lost, never sent twice.
    """
    cursor = conn.cursors[key]
    assert cursor.backlog is not None
    try:
        async with db.reader() as tx:
            pending = await cursor.backlog.read(tx, since, most)
    except Exception:
        # Otherwise the cursor would hold every later live change back, silently, forever.
        if _current(conn, key, cursor):
            del conn.cursors[key]
        raise
    sent = 0
    for version, text in pending.frames:
        if conn.closing:
            break
        if _current(conn, key, cursor) and cursor.accept(version):
            await conn.push_waiting(OutFrame(text), REPLAY_WAIT_SECONDS)
            sent += 1
    covered = pending.last_seq if since is None or not pending.recovered else since
    for held in cursor.finish_replay(max([covered, *(v for v, _ in pending.frames)])):
        if _current(conn, key, cursor):
            conn.push_frame(held)
    return Replayed(cursor.name, pending.recovered, pending.reason, sent, pending.last_seq)


@dataclass(frozen=True)
class Follow:
    """One stream a socket subscribes to: what the ack calls it, its cursor key, where the
    client was (``since``), its new cursor, and the check of the member's right to read it."""

    label: str
    key: CursorKey
    since: int | None
    cursor: StreamCursor
    check: Callable[[], None]


async def follow(
    db: Database, conn: Connection, streams: list[Follow], most: int
) -> dict[str, dict[str, Any]]:
    """Every stream feature's subscribe: checks every stream first, so a refused one leaves no
    other half-subscribed; then each in turn is checked again (an earlier replay may have
    outlasted a role change), gets its cursor before the store is read, and is replayed. The
    acks by label."""
    for stream in streams:
        stream.check()
    acks: dict[str, dict[str, Any]] = {}
    for stream in streams:
        stream.check()
        conn.cursors[stream.key] = stream.cursor
        acks[stream.label] = (await replay(db, conn, stream.key, stream.since, most)).ack()
    return acks


def _current(conn: Connection, key: CursorKey, cursor: StreamCursor) -> bool:
    """A newer subscription to the same stream replaces this one; its replay stops."""
    return conn.cursors.get(key) is cursor


async def catch_up(db: Database, conn: Connection, most: int) -> None:
    """After events may have been lost: replays each subscribed stream from what it holds."""
    for key, cursor in list(conn.cursors.items()):
        assert cursor.backlog is not None
        cursor.replaying = True
        try:
            result = await replay(db, conn, key, cursor.contiguous, most)
        except Exception:
            log.exception("catch-up of %s failed; the client must resubscribe", cursor.name)
            conn.push(cursor.backlog.resync("catch_up_failed"))
            continue
        if not result.recovered:
            conn.push(cursor.backlog.resync(result.reason or "too_far_behind"))
