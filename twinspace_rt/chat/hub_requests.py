"""Chat on the hub: each request stores first, then publishes, then acknowledges.

`register` plugs chat into the hub at application start: its request types, its pushes, and
its group-commit writer, which lives as long as the node.
"""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action
from twinspace_rt.chat import channels, messages, moderation, reading
from twinspace_rt.chat.channels import ChannelInfo
from twinspace_rt.chat.messages import MessageView
from twinspace_rt.chat.wire import (
    ChatChannels,
    ChatDelete,
    ChatEdit,
    ChatHistory,
    ChatMute,
    ChatReact,
    ChatRead,
    ChatReport,
    ChatSend,
    ChatSubscribe,
    ChatUnread,
    ChatUnsubscribe,
    Typing,
    message_payload,
)
from twinspace_rt.chat.writer import ChatWriter
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.hub import events
from twinspace_rt.hub.connection import Connection, StreamCursor
from twinspace_rt.hub.features import HubFeatures
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import push
from twinspace_rt.hub.replay import Follow, Pending, follow
from twinspace_rt.projects import attachments
from twinspace_rt.storage.chat_models import Channel


class ChatBacklog:
    """A channel's stored changes, replayed as ``chat.message`` pushes with ``change: replay``."""

    def __init__(self, channel_id: int, name: str) -> None:
        self.channel_id = channel_id
        self.name = name

    async def read(self, tx: AsyncSession, since: int | None, most: int) -> Pending:
        channel = await tx.get(Channel, self.channel_id)
        assert channel is not None
        if since is None:
            return Pending([], True, None, channel.last_seq)
        catchup = await messages.changes_since(tx, channel, since, most)
        frames = [
            (
                view.message.version,
                push("chat.message", change="replay", message=message_payload(view, channel.name)),
            )
            for view in catchup.changes
        ]
        return Pending(frames, catchup.recovered, catchup.reason, channel.last_seq)

    def resync(self, reason: str) -> str:
        return push("chat.resync", channel=self.name, reason=reason)


async def _publish_change(
    hub: Hub, conn: Connection, channel: ChannelInfo, view: MessageView, change: str
) -> dict[str, Any]:
    assert channel.id is not None
    payload = message_payload(view, channel.name)
    frame = push("chat.message", change=change, message=payload)
    await hub.publish(
        conn.member.project_id, events.stream(channel.id, view.message.version, frame)
    )
    return payload


async def _answer_change(
    hub: Hub, conn: Connection, channel: Channel, view: MessageView, before: int, change: str
) -> dict[str, Any]:
    """Publishes only when the channel moved on: repeating a delete or a reaction tells nobody."""
    if channel.last_seq == before:
        return {"message": message_payload(view, channel.name)}
    return {"message": await _publish_change(hub, conn, channel, view, change)}


def _check_text(hub: Hub, text: str) -> None:
    if len(text) > hub.settings.chat_text_max:
        raise AppError(
            ErrorCode.validation_failed,
            f"A message is limited to {hub.settings.chat_text_max} characters.",
        )


async def send(hub: Hub, conn: Connection, request: ChatSend) -> dict[str, Any]:
    _check_text(hub, request.text)
    attached: list[attachments.Attached] = []
    if request.materials:  # a plain message never waits for this read
        async with hub.db.reader() as tx:
            attached = await attachments.check(tx, conn.member, request.materials)
    posted = await _writer(hub).post(
        conn.member, request.channel, request.text, request.key, request.reply_to, attached
    )
    if posted.created:
        await _publish_change(hub, conn, posted.channel, posted.view, "created")
    message = posted.view.message
    return {
        "seq": message.seq,
        "version": message.version,
        "created_at": message.created_at,
        "duplicate": not posted.created,
    }


async def edit(hub: Hub, conn: Connection, request: ChatEdit) -> dict[str, Any]:
    _check_text(hub, request.text)
    window = timedelta(seconds=hub.settings.chat_edit_window_seconds)
    async with hub.db.transaction() as tx:
        channel = await channels.by_name(tx, conn.member, request.channel)
        before = channel.last_seq
        view = await messages.edit(tx, conn.member, channel, request.seq, request.text, window)
    return await _answer_change(hub, conn, channel, view, before, "edited")


async def delete(hub: Hub, conn: Connection, request: ChatDelete) -> dict[str, Any]:
    window = timedelta(seconds=hub.settings.chat_edit_window_seconds)
    async with hub.db.transaction() as tx:
        channel = await channels.by_name(tx, conn.member, request.channel)
        before = channel.last_seq
        view = await messages.delete(tx, conn.member, channel, request.seq, window)
    return await _answer_change(hub, conn, channel, view, before, "deleted")


async def react(hub: Hub, conn: Connection, request: ChatReact) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        channel = await channels.by_name(tx, conn.member, request.channel)
        before = channel.last_seq
        view = await messages.react(
            tx, conn.member, channel, request.seq, request.emoji, request.on
        )
    return await _answer_change(hub, conn, channel, view, before, "reaction")


async def history(hub: Hub, conn: Connection, request: ChatHistory) -> dict[str, Any]:
    async with hub.db.reader() as tx:
        channel = await channels.by_name(tx, conn.member, request.channel)
        found = await messages.history(tx, channel, request.before, request.limit)
    return {
        "messages": [message_payload(v, channel.name) for v in found],
        "last_seq": channel.last_seq,
    }


async def list_channels(hub: Hub, conn: Connection, request: ChatChannels) -> dict[str, Any]:
    async with hub.db.reader() as tx:
        found = await channels.readable(tx, conn.member)
    return {
        "channels": [
            {
                "name": c.name,
                "title": c.title,
                "rule": c.rule,
                "last_seq": c.last_seq,
                "writable": _writable(conn, c),
            }
            for c in found
        ]
    }


def _writable(conn: Connection, channel: Channel) -> bool:
    try:
        channels.require_write(conn.member, channel)
    except AppError:
        return False
    return True


async def subscribe(hub: Hub, conn: Connection, request: ChatSubscribe) -> dict[str, Any]:
    """Replays each channel's missed changes, then switches it to live without gap or repeat."""
    found = await _writer(hub).channels_named(conn.member, list(request.channels))
    wanted = []
    for channel in found:
        assert channel.id is not None
        cursor = StreamCursor(
            name=channel.name,
            readable=partial(channels.can_read, rule_name=channel.rule),
            backlog=ChatBacklog(channel.id, channel.name),
        )
        check = partial(channels.require_read, conn.member, channel)
        wanted.append(
            Follow(channel.name, channel.id, request.channels[channel.name], cursor, check)
        )
    return {"channels": await follow(hub.db, conn, wanted, hub.settings.chat_resume_max)}


async def unsubscribe(hub: Hub, conn: Connection, request: ChatUnsubscribe) -> dict[str, Any]:
    names = set(request.channels)
    for key, cursor in list(conn.cursors.items()):
        # Chat cursors are keyed by channel id; forum streams by name, and are not touched.
        if isinstance(key, int) and cursor.name in names:
            del conn.cursors[key]
    return {}


async def mark_read(hub: Hub, conn: Connection, request: ChatRead) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        channel = await channels.by_name(tx, conn.member, request.channel)
        seq = await reading.mark_read(tx, conn.member, channel, request.seq)
    return {"last_read_seq": seq}


async def unread(hub: Hub, conn: Connection, request: ChatUnread) -> dict[str, Any]:
    async with hub.db.reader() as tx:
        counts = await reading.unread_counts(
            tx, conn.member, await channels.readable(tx, conn.member)
        )
    return {"unread": counts}


async def report(hub: Hub, conn: Connection, request: ChatReport) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        channel = await channels.by_name(tx, conn.member, request.channel)
        entry = await moderation.report(tx, conn.member, channel, request.seq, request.reason)
    frame = push(
        "chat.reported",
        report_id=entry.id,
        channel=channel.name,
        seq=request.seq,
        reporter_id=conn.user_id,
        reason=request.reason,
    )
    await hub.publish(conn.member.project_id, events.to_moderators(frame))
    return {"report_id": entry.id}


async def mute(hub: Hub, conn: Connection, request: ChatMute) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        until = await moderation.mute(tx, conn.member, request.user_id, request.minutes)
    frame = push("chat.muted", user_id=request.user_id, until=until, by=conn.user_id)
    await hub.publish(conn.member.project_id, events.to_moderators(frame))
    # The member is told at once, not at their next refused message; `minutes: 0` lifts it.
    notice = push("chat.paused", until=until, minutes=request.minutes, by=conn.user_id)
    await hub.publish(conn.member.project_id, events.to_user(request.user_id, notice))
    return {"until": until}


async def typing(hub: Hub, conn: Connection, request: Typing) -> dict[str, Any]:
    """Ephemeral: relayed to readers of the channel who subscribed to it, never stored."""
    async with hub.db.reader() as tx:
        channel = await channels.by_name(tx, conn.member, request.channel)
    channels.require_write(conn.member, channel)
    assert channel.id is not None
    frame = push(
        "typing", channel=channel.name, user_id=conn.user_id, display_name=conn.display_name
    )
    await hub.publish(
        conn.member.project_id, events.to_stream_readers(channel.id, frame, but=conn.user_id)
    )
    return {}


async def place(hub: Hub, conn: Connection, name: str) -> list[tuple[Action, ...]] | None:
    """In presence, a channel's name is seen only by those who may read the channel."""
    async with hub.db.reader() as tx:
        rule = await channels.rule_of(tx, conn.member.project_id, name)
    if rule is None or not channels.can_read(conn.member, rule):
        return None
    return [(action,) for action in channels.readers(rule)]


FEATURE = "chat"


def _writer(hub: Hub) -> ChatWriter:
    writer = hub.state[FEATURE]
    assert isinstance(writer, ChatWriter)
    return writer


def register(hub: Hub) -> None:
    """Chat's request types, pushes and writer: called once when the application is built."""
    features: HubFeatures = hub.features
    writer = ChatWriter(hub.db)
    hub.state[FEATURE] = writer
    features.on_stop.append(writer.close)
    features.place("channel", place)
    for model, handler in (
        (Typing, typing),
        (ChatChannels, list_channels),
        (ChatSubscribe, subscribe),
        (ChatUnsubscribe, unsubscribe),
        (ChatSend, send),
        (ChatHistory, history),
        (ChatEdit, edit),
        (ChatDelete, delete),
        (ChatReact, react),
        (ChatRead, mark_read),
        (ChatUnread, unread),
        (ChatReport, report),
        (ChatMute, mute),
    ):
        features.request(FEATURE, model, handler)
    for name, summary in (
        ("typing", "someone types in a channel the socket subscribed to"),
        ("chat.message", "a stored change of a subscribed channel"),
        ("chat.resync", "a subscribed channel could not be caught up"),
        ("chat.reported", "a message was reported (moderators)"),
        ("chat.muted", "a member was muted (moderators)"),
        ("chat.paused", "a teacher paused (or let again) my messages"),
    ):
        features.push(FEATURE, name, summary)
