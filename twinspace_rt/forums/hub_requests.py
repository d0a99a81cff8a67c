"""Forum requests on the hub: subscribing to a project's forum and bulletin streams.

Forum writes go through REST (`api/forums.py`), which stores each change with its stream seq
and publishes it; here a socket asks for those changes live, after a replay of what it missed.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from pydantic import Field
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Member, can, require
from twinspace_rt.forums import streams
from twinspace_rt.forums.streams import READ_ACTION, Stream
from twinspace_rt.hub.connection import Connection, StreamCursor
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import push
from twinspace_rt.hub.replay import Follow, Pending, follow
from twinspace_rt.hub.request import Request, Since

ForumStreamName = Literal["forum", "bulletin"]


class ForumSubscribe(Request):
    """``since`` per stream: the last seq the client holds, or null for live only."""

    type: Literal["forum.subscribe"]
    streams: Annotated[dict[ForumStreamName, Since | None], Field(min_length=1)]


class ForumUnsubscribe(Request):
    type: Literal["forum.unsubscribe"]
    streams: Annotated[list[ForumStreamName], Field(max_length=2)]


class ForumBacklog:
    """A stream's stored frames: replay sends exactly what live delivery would have sent.

    Any stream numbered by `forums/streams.py` (pages and the journal too), with its feature's
    resync push.
    """

    def __init__(self, project_id: int, stream: str, resync_type: str = "forum.resync") -> None:
        self.project_id = project_id
        self.stream = str(stream)
        self.resync_type = resync_type

    async def read(self, tx: AsyncSession, since: int | None, most: int) -> Pending:
        found = await streams.changes_since(tx, self.project_id, self.stream, since, most)
        return Pending(found.frames, found.recovered, found.reason, found.last_seq)

    def resync(self, reason: str) -> str:
        return push(self.resync_type, stream=self.stream, reason=reason)


async def subscribe(hub: Hub, conn: Connection, request: ForumSubscribe) -> dict[str, Any]:
    wanted = [
        Follow(
            stream.value,
            stream.value,
            since,
            StreamCursor(
                name=stream.value,
                readable=partial(_may_read, stream=stream),
                backlog=ForumBacklog(conn.member.project_id, stream),
            ),
            partial(require, conn.member, READ_ACTION[stream]),
        )
        for stream, since in ((Stream(name), since) for name, since in request.streams.items())
    ]
    return {"streams": await follow(hub.db, conn, wanted, hub.settings.chat_resume_max)}


def _may_read(member: Member, stream: Stream) -> bool:
    return can(member, READ_ACTION[stream])


async def unsubscribe(hub: Hub, conn: Connection, request: ForumUnsubscribe) -> dict[str, Any]:
    for name in request.streams:
        conn.cursors.pop(name, None)
    return {}


def register(hub: Hub) -> None:
    """The forum's request types and pushes: called once when the application is built."""
    hub.features.request("forums", ForumSubscribe, subscribe)
    hub.features.request("forums", ForumUnsubscribe, unsubscribe)
    for name, summary in (
        ("forum.forum.created", "a forum was created"),
        ("forum.forum.updated", "a forum was renamed or moved"),
        ("forum.forum.deleted", "a forum was deleted"),
        ("forum.thread.created", "a thread was opened"),
        ("forum.thread.renamed", "a thread was renamed"),
        ("forum.thread.pinned", "a thread was pinned or unpinned"),
        ("forum.thread.locked", "a thread was locked or unlocked"),
        ("forum.thread.moved", "a thread moved to another forum"),
        ("forum.post.created", "a reply was posted"),
        ("forum.post.edited", "a post was edited"),
        ("forum.post.deleted", "a post was deleted"),
        ("forum.post.reaction", "a post's reactions changed"),
        ("bulletin.post.created", "a bulletin post was published"),
        ("bulletin.post.edited", "a bulletin post was edited"),
        ("bulletin.post.deleted", "a bulletin post was deleted"),
        ("bulletin.post.reaction", "a bulletin post's reactions changed"),
        ("forum.reported", "a post was reported (moderators)"),
        ("forum.resync", "a subscribed stream could not be caught up"),
    ):
        hub.features.push("forums", name, summary)
