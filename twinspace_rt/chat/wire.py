"""Chat's hub wire format: the requests a client may send, and the payload of one message."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from twinspace_rt.chat.messages import MessageView
from twinspace_rt.hub.request import Request, RowId, Seq, Since
from twinspace_rt.projects.attachments import ATTACHMENTS_MAX
from twinspace_rt.storage.chat_models import REPORT_REASON_MAX

ChannelName = Annotated[str, StringConstraints(min_length=1, max_length=32)]


class Typing(Request):
    type: Literal["typing"]
    channel: ChannelName


class ChatChannels(Request):
    type: Literal["chat.channels"]


class ChatSubscribe(Request):
    """``since`` per channel: the last seq the client holds, or null for live only."""

    type: Literal["chat.subscribe"]
    channels: Annotated[dict[ChannelName, Since | None], Field(max_length=64)]


class ChatUnsubscribe(Request):
    type: Literal["chat.unsubscribe"]
    channels: Annotated[list[ChannelName], Field(max_length=64)]


class ChatSend(Request):
    type: Literal["chat.send"]
    channel: ChannelName
    text: Annotated[str, StringConstraints(min_length=1)]
    key: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    reply_to: Seq | None = None
    materials: Annotated[list[RowId], Field(max_length=ATTACHMENTS_MAX)] = []


class ChatHistory(Request):
    type: Literal["chat.history"]
    channel: ChannelName
    before: Seq | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 50


class ChatEdit(Request):
    type: Literal["chat.edit"]
    channel: ChannelName
    seq: Seq
    text: Annotated[str, StringConstraints(min_length=1)]


class ChatDelete(Request):
    type: Literal["chat.delete"]
    channel: ChannelName
    seq: Seq


class ChatReact(Request):
    type: Literal["chat.react"]
    channel: ChannelName
    seq: Seq
    emoji: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    on: bool = True


class ChatRead(Request):
    type: Literal["chat.read"]
    channel: ChannelName
    seq: Since


class ChatUnread(Request):
    type: Literal["chat.unread"]


class ChatReport(Request):
    type: Literal["chat.report"]
    channel: ChannelName
    seq: Seq
    reason: Annotated[str, StringConstraints(min_length=1, max_length=REPORT_REASON_MAX)]


class ChatMute(Request):
    type: Literal["chat.mute"]
    user_id: RowId
    minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)]


def message_payload(view: MessageView, channel: str) -> dict[str, Any]:
    message = view.message
    deleted = None
    if message.deleted_at is not None:
        deleted = {"by": message.deleted_by, "at": message.deleted_at.isoformat()}
    return {
        "channel": channel,
        "seq": message.seq,
        "version": message.version,
        "author_id": message.author_id,
        "text": message.text,
        "reply_to": message.reply_to,
        "created_at": message.created_at.isoformat(),
        "edited_at": message.edited_at.isoformat() if message.edited_at else None,
        "deleted": deleted,
        "reactions": view.reactions,
        "materials": view.materials,
    }
