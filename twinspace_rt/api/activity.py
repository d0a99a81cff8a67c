"""The room's home screen: what is new for me in chat, the forums, the bulletin, the journal."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.forum_schemas import ActivityOut, ThreadUnreadOut
from twinspace_rt.api.http import Endpoint, in_room, respond
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.auth.policy import Action, can
from twinspace_rt.chat import channels
from twinspace_rt.chat.reading import unread_counts
from twinspace_rt.forums import reading
from twinspace_rt.journal import reading as journal_reading


async def activity(request: Request) -> Response:
    """Each part only where the member may read it; a pupil's `bulletin` is null."""
    async with in_room(request) as (tx, _, member):
        chat = {}
        if can(member, Action.chat_read):
            chat = await unread_counts(tx, member, await channels.readable(tx, member))
        threads = []
        if can(member, Action.forum_read):
            threads = await reading.unread_threads(tx, member)
        bulletin = None
        if can(member, Action.bulletin_read):
            bulletin = await reading.unread_bulletin(tx, member)
        journal = None
        if can(member, Action.journal_read):
            journal = await journal_reading.unread(tx, member)
    return respond(
        ActivityOut(
            chat=chat,
            threads=[ThreadUnreadOut.model_validate(t) for t in threads],
            forum_unread=sum(t["unread"] for t in threads),
            bulletin=bulletin,
            journal=journal,
        )
    )


ENDPOINTS = [
    Endpoint(
        "GET",
        PROJECT + "/activity",
        activity,
        "Unread counts since my last visit: per chat channel, per forum thread, bulletin, journal.",
        response=ActivityOut,
        errors=ROOM_ERRORS,
    ),
]
