"""Bringing one socket's view of a channel up to date from the store, without gap or repeat."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from twinspace_rt.chat import messages
from twinspace_rt.hub.connection import ChannelCursor, Connection
from twinspace_rt.hub.protocol import message_payload, push
from twinspace_rt.hub.transport import OutFrame
from twinspace_rt.storage.chat_models import Channel
from twinspace_rt.storage.engine import Database

log = logging.getLogger(__name__)

REPLAY_WAIT_SECONDS = 10.0


@dataclass
class Replayed:
    channel: str
    recovered: bool
    reason: str | None
    replayed: int
    last_seq: int


async def replay(
    db: Database, conn: Connection, channel_id: int, since: int | None, most: int
) -> Replayed:
    """Sends the changes after ``since`` (none for ``None``), then releases held-back live ones.

    The cursor must already be registered and replaying, so that a change committed while the
    store is read is either in the replay or held back; never lost, never sent twice.
    """
    cursor = conn.cursors[channel_id]
    try:
        async with db.reader() as session:
            channel = await session.get(Channel, channel_id)
            assert channel is not None
            if since is None:
                catchup = messages.Catchup([], True)
            else:
                catchup = await messages.changes_since(session, channel, since, most)
    except Exception:
        # Otherwise the cursor would hold every later live change back, silently, forever.
        if _current(conn, channel_id, cursor):
            del conn.cursors[channel_id]
        raise
    sent = 0
    for view in catchup.changes:
        if _current(conn, channel_id, cursor) and cursor.accept(view.message.version):
            text = push(
                "chat.message", change="replay", message=message_payload(view, channel.name)
            )
            await conn.push_waiting(OutFrame(text), REPLAY_WAIT_SECONDS)
            sent += 1
    covered = channel.last_seq if since is None or not catchup.recovered else since
    for held in cursor.finish_replay(max([covered, *(v.message.version for v in catchup.changes)])):
        if _current(conn, channel_id, cursor):
            conn.push_frame(held)
    return Replayed(channel.name, catchup.recovered, catchup.reason, sent, channel.last_seq)


def _current(conn: Connection, channel_id: int, cursor: ChannelCursor) -> bool:
    """A newer subscription to the same channel replaces this one; its replay stops."""
    return conn.cursors.get(channel_id) is cursor


async def catch_up(db: Database, conn: Connection, most: int) -> None:
    """After events may have been lost: replays each subscribed channel from what it holds."""
    for channel_id, cursor in list(conn.cursors.items()):
        cursor.replaying = True
        try:
            result = await replay(db, conn, channel_id, cursor.contiguous, most)
        except Exception:
            log.exception("catch-up of #%s failed; the client must resubscribe", cursor.name)
            conn.push(push("chat.resync", channel=cursor.name, reason="catch_up_failed"))
            continue
        if not result.recovered:
            conn.push(push("chat.resync", channel=result.channel, reason=result.reason))
