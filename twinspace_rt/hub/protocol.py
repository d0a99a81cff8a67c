"""The hub's wire format: every request a client may send, and every frame the server writes.

A request carries a client ``id`` that its ``ack`` or ``error`` echoes; server pushes carry none.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from signaling.messages import RtcRequest
from twinspace_rt.chat.messages import MessageView
from twinspace_rt.errors import AppError
from twinspace_rt.hub.request import Request
from twinspace_rt.storage.chat_models import REPORT_REASON_MAX

ChannelName = Annotated[str, StringConstraints(min_length=1, max_length=32)]
# Row ids and change numbers are INTEGER columns: a larger number would reach the database
# and fail there (found by tests/fuzz/hub_json.py).
INT_MAX = 2**31 - 1
Seq = Annotated[int, Field(ge=1, le=INT_MAX)]
Since = Annotated[int, Field(ge=0, le=INT_MAX)]


class Ping(Request):
    type: Literal["ping"]


class AuthRefresh(Request):
    type: Literal["auth.refresh"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=8192)]


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    kind: Literal["home", "channel", "doc", "video", "forum"]
    ref: Annotated[str, StringConstraints(max_length=64)] | None = None


class PresenceUpdate(Request):
    type: Literal["presence.update"]
    status: Literal["active", "away"] | None = None
    location: Location | None = None


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
    user_id: Annotated[int, Field(ge=1, le=INT_MAX)]
    minutes: Annotated[int, Field(ge=0, le=7 * 24 * 60)]


ForumStreamName = Literal["forum", "bulletin"]


class ForumSubscribe(Request):
    """``since`` per stream: the last seq the client holds, or null for live only."""

    type: Literal["forum.subscribe"]
    streams: Annotated[dict[ForumStreamName, Since | None], Field(min_length=1)]


class ForumUnsubscribe(Request):
    type: Literal["forum.unsubscribe"]
    streams: Annotated[list[ForumStreamName], Field(max_length=2)]


AnyRequest = Annotated[
    Ping
    | AuthRefresh
    | PresenceUpdate
    | Typing
    | ChatChannels
    | ChatSubscribe
    | ChatUnsubscribe
    | ChatSend
    | ChatHistory
    | ChatEdit
    | ChatDelete
    | ChatReact
    | ChatRead
    | ChatUnread
    | ChatReport
    | ChatMute
    | RtcRequest
    | ForumSubscribe
    | ForumUnsubscribe,
    Field(discriminator="type"),
]
REQUEST = TypeAdapter(AnyRequest)


def _default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, default=_default)


def ack(request_id: str, **fields: Any) -> str:
    return encode({"type": "ack", "id": request_id, **fields})


def error(request_id: str | None, exc: AppError) -> str:
    frame: dict[str, Any] = {"type": "error", "id": request_id, **exc.body()["error"]}
    return encode(frame)


def push(kind: str, **fields: Any) -> str:
    return encode({"type": kind, **fields})


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
    }
