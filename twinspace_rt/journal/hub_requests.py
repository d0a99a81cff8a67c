"""The journal on the hub: following its stream live, after a replay of what the socket missed.

Journal writes go through REST (`api/journal.py`). Moderators follow ``journal.mod`` (every
change, posts in review included), everyone else ``journal``; both are numbered and replayed by
the forums' stream machinery.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from twinspace_rt.auth.policy import Action, Member, can, require
from twinspace_rt.forums.hub_requests import ForumBacklog
from twinspace_rt.hub.connection import Connection, StreamCursor
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.replay import Follow, follow
from twinspace_rt.hub.request import Request, Since
from twinspace_rt.journal import streams


class JournalSubscribe(Request):
    """``since``: the last seq of the journal stream the client holds, or null for live only."""

    type: Literal["journal.subscribe"]
    since: Since | None = None


class JournalUnsubscribe(Request):
    type: Literal["journal.unsubscribe"]


async def subscribe(hub: Hub, conn: Connection, request: JournalSubscribe) -> dict[str, Any]:
    require(conn.member, Action.journal_read)
    stream = streams.stream_of(conn.member)

    def readable(member: Member) -> bool:
        """A role change to or from moderating ends this delivery; the client resubscribes."""
        return can(member, Action.journal_read) and streams.stream_of(member) == stream

    cursor = StreamCursor(
        name=stream,
        readable=readable,
        backlog=ForumBacklog(conn.member.project_id, stream, "journal.resync"),
    )
    check = partial(require, conn.member, Action.journal_read)
    wanted = [Follow(stream, stream, request.since, cursor, check)]
    acks = await follow(hub.db, conn, wanted, hub.settings.chat_resume_max)
    return {"stream": stream, **acks[stream]}


async def unsubscribe(hub: Hub, conn: Connection, request: JournalUnsubscribe) -> dict[str, Any]:
    for stream in streams.STREAMS:
        conn.cursors.pop(stream, None)
    return {}


def register(hub: Hub) -> None:
    hub.features.request("journal", JournalSubscribe, subscribe)
    hub.features.request("journal", JournalUnsubscribe, unsubscribe)
    for noun in ("post", "comment"):
        for change, summary in (
            ("created", "was written"),
            ("edited", "was edited"),
            ("deleted", "was deleted (a tombstone)"),
            ("liked", "'s likes changed"),
        ):
            hub.features.push("journal", f"journal.{noun}.{change}", f"a journal {noun} {summary}")
    hub.features.push("journal", "journal.post.approved", "a pupil's post was approved")
    hub.features.push("journal", "journal.post.pinned", "a post was pinned or unpinned")
    hub.features.push("journal", "journal.reported", "a journal post was reported (moderators)")
    hub.features.push("journal", "journal.resync", "the journal stream could not be caught up")
