"""Forum requests on the hub: subscribing to a project's forum and bulletin streams.

Forum writes go through REST (`api/forums.py`), which stores each change with its stream seq
and publishes it; here a socket asks for those changes live, after a replay of what it missed.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import require
from twinspace_rt.forums import streams
from twinspace_rt.forums.streams import READ_ACTION, Stream
from twinspace_rt.hub.connection import ChannelCursor, Connection
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import ForumSubscribe, ForumUnsubscribe, push
from twinspace_rt.hub.replay import Pending, replay


class ForumBacklog:
    """A stream's stored frames: replay sends exactly what live delivery would have sent."""

    def __init__(self, project_id: int, stream: Stream) -> None:
        self.project_id = project_id
        self.stream = stream

    async def read(self, session: AsyncSession, since: int | None, most: int) -> Pending:
        found = await streams.changes_since(session, self.project_id, self.stream, since, most)
        return Pending(found.frames, found.recovered, found.reason, found.last_seq)

    def resync(self, reason: str) -> str:
        return push("forum.resync", stream=self.stream.value, reason=reason)


async def subscribe(hub: Hub, conn: Connection, request: ForumSubscribe) -> dict[str, Any]:
    """Checks every stream first, so a refused one leaves no other half-subscribed."""
    wanted = {Stream(name): since for name, since in request.streams.items()}
    for stream in wanted:
        require(conn.member, READ_ACTION[stream])
    result: dict[str, Any] = {}
    for stream, since in wanted.items():
        # Again, now: an earlier stream's replay may have outlasted a role change.
        require(conn.member, READ_ACTION[stream])
        conn.cursors[stream.value] = ChannelCursor(
            name=stream.value,
            rule=stream.value,
            backlog=ForumBacklog(conn.member.project_id, stream),
        )
        done = await replay(hub.db, conn, stream.value, since, hub.settings.chat_resume_max)
        result[stream.value] = done.ack()
    return {"streams": result}


async def unsubscribe(hub: Hub, conn: Connection, request: ForumUnsubscribe) -> dict[str, Any]:
    for name in request.streams:
        conn.cursors.pop(name, None)
    return {}
