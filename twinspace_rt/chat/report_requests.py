"""The reports inbox on the hub: moderators list chat reports and decide about each.

A decision is stored first (report, tombstone or mute, audit entry in one transaction), then
published: the deleted message to the channel's readers, the decision to every moderator
online, so a colleague's inbox shows who decided at once.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import Field

from twinspace_rt.chat import reports
from twinspace_rt.chat.wire import message_payload
from twinspace_rt.hub import events
from twinspace_rt.hub.connection import Connection
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import push
from twinspace_rt.hub.request import Request, RowId

FEATURE = "chat.reports"


class ChatReports(Request):
    type: Literal["chat.reports"]


class ChatResolve(Request):
    type: Literal["chat.resolve"]
    report_id: RowId
    decision: reports.Decision
    minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)] = 0


async def inbox(hub: Hub, conn: Connection, request: ChatReports) -> dict[str, Any]:
    async with hub.db.reader() as tx:
        return {"reports": await reports.inbox(tx, conn.member)}


async def resolve(hub: Hub, conn: Connection, request: ChatResolve) -> dict[str, Any]:
    window = timedelta(seconds=hub.settings.chat_edit_window_seconds)
    async with hub.db.transaction() as tx:
        done = await reports.resolve(
            tx, conn.member, request.report_id, request.decision, request.minutes, window
        )
    project_id = conn.member.project_id
    if done.deleted is not None and done.channel.id is not None:
        message = message_payload(done.deleted, done.channel.name)
        change = push("chat.message", change="deleted", message=message)
        version = done.deleted.message.version
        await hub.publish(project_id, events.stream(done.channel.id, version, change))
    if done.muted_until is not None:
        muted = push("chat.muted", user_id=done.author_id, until=done.muted_until, by=conn.user_id)
        await hub.publish(project_id, events.to_moderators(muted))
    frame = push("chat.report_resolved", report=done.report)
    await hub.publish(project_id, events.to_moderators(frame))
    return {"report": done.report}


def register(hub: Hub) -> None:
    hub.features.request(FEATURE, ChatReports, inbox)
    hub.features.request(FEATURE, ChatResolve, resolve)
    hub.features.push(FEATURE, "chat.report_resolved", "a moderator decided about a report")
