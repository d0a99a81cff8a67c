"""Pages on the hub: following the menu live, after a replay of what the socket missed.

Page writes go through REST (`api/pages.py`); a socket subscribes to its audience's menu
stream (`audience.py`), numbered and stored by the forums' stream machinery.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.documents import catalog
from twinspace_rt.errors import AppError
from twinspace_rt.forums.hub_requests import ForumBacklog
from twinspace_rt.hub.connection import Connection, StreamCursor
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.replay import Follow, follow
from twinspace_rt.hub.request import Request, Since
from twinspace_rt.pages import audience
from twinspace_rt.pages.menu import PUSHES


class PagesSubscribe(Request):
    """``since``: the last seq of the menu stream the client holds, or null for live only."""

    type: Literal["pages.subscribe"]
    since: Since | None = None


class PagesUnsubscribe(Request):
    type: Literal["pages.unsubscribe"]


async def subscribe(hub: Hub, conn: Connection, request: PagesSubscribe) -> dict[str, Any]:
    require(conn.member, Action.page_read)
    stream = audience.of(conn.member).stream

    def readable(member: Member) -> bool:
        """A role change that changes the menu one sees ends this subscription's delivery;
        the client learns of it by `room.changed` and subscribes again."""
        return audience.of(member).stream == stream

    cursor = StreamCursor(
        name=stream,
        readable=readable,
        backlog=ForumBacklog(conn.member.project_id, stream, "pages.resync"),
    )
    check = partial(require, conn.member, Action.page_read)
    wanted = [Follow(stream, stream, request.since, cursor, check)]
    acks = await follow(hub.db, conn, wanted, hub.settings.chat_resume_max)
    return {"stream": stream, **acks[stream]}


async def unsubscribe(hub: Hub, conn: Connection, request: PagesUnsubscribe) -> dict[str, Any]:
    for seen_by in audience.AUDIENCES:
        conn.cursors.pop(seen_by.stream, None)
    return {}


async def document_place(hub: Hub, conn: Connection, name: str) -> list[tuple[Action, ...]] | None:
    """In presence, a document's name is seen only by those who may open it (a draft or
    teachers-only page's body: `audience.document_requires`). Registered by pages, which sets
    those requirements: the documents package sits beside the hub core and cannot plug in."""
    async with hub.db.reader() as tx:
        try:
            document = await catalog.by_name(tx, conn.member, name)
        except AppError:
            return None
    needed = catalog.read_actions(document)
    return [needed] if needed else []


def register(hub: Hub) -> None:
    hub.features.place("doc", document_place)
    hub.features.request("pages", PagesSubscribe, subscribe)
    hub.features.request("pages", PagesUnsubscribe, unsubscribe)
    for name, summary in PUSHES:
        hub.features.push("pages", name, summary)
