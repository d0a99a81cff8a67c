"""Changes to chat messages after they are posted, history, and the replay a resume needs.

New messages are stored by the group-commit writer (`chat/writer.py`). Every change in a
channel (a new message, an edit, a delete, a reaction) takes the channel's next ``seq`` in the
same transaction that stores it. A message keeps the ``seq`` it was born with and records the
``seq`` of its latest change as ``version``; resuming replays by ``version``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, can
from twinspace_rt.chat.channels import require_write
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import attachments, audit
from twinspace_rt.projects.attachments import Attached
from twinspace_rt.storage.chat_models import Channel, ChatAttachment, ChatMessage, Mute, Reaction

LINKS = attachments.Links(ChatAttachment, "message_id")


class MessageRecord(Protocol):
    """A stored message: an ORM row, or the light record the group-commit writer builds."""

    @property
    def seq(self) -> int: ...

    @property
    def version(self) -> int: ...

    @property
    def author_id(self) -> int: ...

    @property
    def text(self) -> str: ...

    @property
    def reply_to(self) -> int | None: ...

    @property
    def created_at(self) -> datetime: ...

    @property
    def edited_at(self) -> datetime | None: ...

    @property
    def deleted_at(self) -> datetime | None: ...

    @property
    def deleted_by(self) -> int | None: ...


@dataclass
class MessageView:
    """A message as members see it: a deleted one keeps its place but not its text, nor its
    attached materials."""

    message: MessageRecord
    reactions: dict[str, list[int]] = field(default_factory=dict)
    materials: list[Attached] = field(default_factory=list)


async def _next_seq(tx: AsyncSession, channel: Channel) -> int:
    """Row-locks the channel on PostgreSQL; SQLite has one writer anyway."""
    result = await tx.exec(
        update(Channel)
        .where(col(Channel.id) == channel.id)
        .values(last_seq=col(Channel.last_seq) + 1)
        .returning(col(Channel.last_seq))
    )
    seq = int(result.scalar_one())
    channel.last_seq = seq
    return seq


async def _check_not_muted(tx: AsyncSession, member: Member) -> None:
    found = await tx.exec(
        select(Mute).where(Mute.project_id == member.project_id, Mute.user_id == member.user_id)
    )
    mute = found.first()
    if mute is not None and mute.until > datetime.now(UTC):
        remaining = int((mute.until - datetime.now(UTC)).total_seconds()) + 1
        raise AppError(ErrorCode.muted, retry_after=remaining)


async def _by_seq(tx: AsyncSession, channel: Channel, seq: int) -> ChatMessage:
    """Locked for the change to come: a concurrent edit or reaction must see a deletion that
    committed first, or it would write the deleted text back."""
    found = await tx.exec(
        select(ChatMessage)
        .where(ChatMessage.channel_id == channel.id, ChatMessage.seq == seq)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    message = found.first()
    if message is None:
        raise AppError(ErrorCode.not_found, f"No message {seq} in #{channel.name}.")
    return message


async def edit(
    tx: AsyncSession,
    member: Member,
    channel: Channel,
    seq: int,
    text: str,
    window: timedelta,
) -> MessageView:
    require_write(member, channel)
    await _check_not_muted(tx, member)
    message = await _by_seq(tx, channel, seq)
    if message.author_id != member.user_id:
        raise AppError(ErrorCode.forbidden, "Only the author may edit a message.")
    if message.deleted_at is not None:
        raise AppError(ErrorCode.not_found, "That message was deleted.")
    _check_window(message, window)
    message.text = text
    message.edited_at = datetime.now(UTC)
    message.version = await _next_seq(tx, channel)
    tx.add(message)
    await tx.flush()
    return (await views(tx, [message]))[0]


async def delete(
    tx: AsyncSession, member: Member, channel: Channel, seq: int, window: timedelta
) -> MessageView:
    """Authors within the window, moderators any time; moderators' deletions are audited."""
    message = await _by_seq(tx, channel, seq)
    if message.deleted_at is not None:
        return (await views(tx, [message]))[0]
    is_author = message.author_id == member.user_id
    if can(member, Action.chat_moderate):
        if not is_author:
            audit.record(
                tx,
                member,
                "chat.delete",
                message.author_id,
                channel=channel.name,
                seq=seq,
                text=message.text,
            )
    elif is_author:
        require_write(member, channel)
        _check_window(message, window)
    else:
        raise AppError(ErrorCode.forbidden, "Only moderators may delete others' messages.")
    message.text = ""
    message.deleted_at = datetime.now(UTC)
    message.deleted_by = member.user_id
    assert message.id is not None
    await attachments.replace(tx, LINKS, message.id, [])
    message.version = await _next_seq(tx, channel)
    tx.add(message)
    await tx.flush()
    return MessageView(message)


async def react(
    tx: AsyncSession, member: Member, channel: Channel, seq: int, emoji: str, on: bool
) -> MessageView:
    require_write(member, channel)
    await _check_not_muted(tx, member)
    message = await _by_seq(tx, channel, seq)
    if message.deleted_at is not None:
        raise AppError(ErrorCode.not_found, "That message was deleted.")
    assert message.id is not None
    found = await tx.exec(
        select(Reaction).where(
            Reaction.message_id == message.id,
            Reaction.user_id == member.user_id,
            Reaction.emoji == emoji,
        )
    )
    existing = found.first()
    if on == (existing is not None):
        return (await views(tx, [message]))[0]
    if existing is not None:
        await tx.delete(existing)
    else:
        tx.add(Reaction(message_id=message.id, user_id=member.user_id, emoji=emoji))
    message.version = await _next_seq(tx, channel)
    tx.add(message)
    await tx.flush()
    return (await views(tx, [message]))[0]


def _check_window(message: ChatMessage, window: timedelta) -> None:
    if datetime.now(UTC) - message.created_at > window:
        raise AppError(ErrorCode.edit_window_passed)


async def history(
    tx: AsyncSession, channel: Channel, before: int | None, limit: int
) -> list[MessageView]:
    """Pages backwards by ``seq``; returned oldest first."""
    query = select(ChatMessage).where(ChatMessage.channel_id == channel.id)
    if before is not None:
        query = query.where(col(ChatMessage.seq) < before)
    found = await tx.exec(query.order_by(col(ChatMessage.seq).desc()).limit(limit))
    return await views(tx, list(reversed(list(found))))


@dataclass
class Catchup:
    changes: list[MessageView]
    recovered: bool
    reason: str | None = None


async def changes_since(tx: AsyncSession, channel: Channel, since: int, most: int) -> Catchup:
    """Every change after ``since``, in order; refuses when the gap is beyond what we replay."""
    if since > channel.last_seq:
        return Catchup([], False, "unknown_position")
    found = await tx.exec(
        select(ChatMessage)
        .where(ChatMessage.channel_id == channel.id, col(ChatMessage.version) > since)
        .order_by(col(ChatMessage.version))
        .limit(most + 1)
    )
    changed = list(found)
    if len(changed) > most:
        return Catchup([], False, "too_far_behind")
    return Catchup(await views(tx, changed), True)


async def views(tx: AsyncSession, messages: list[ChatMessage]) -> list[MessageView]:
    ids = [m.id for m in messages if m.id is not None]
    reactions: dict[int, dict[str, list[int]]] = {}
    if ids:
        found = await tx.exec(
            select(Reaction).where(col(Reaction.message_id).in_(ids)).order_by(col(Reaction.id))
        )
        for reaction in found:
            by_emoji = reactions.setdefault(reaction.message_id, {})
            by_emoji.setdefault(reaction.emoji, []).append(reaction.user_id)
    attached = await attachments.of(tx, LINKS, ids)
    return [
        MessageView(m, reactions.get(m.id or 0, {}), attached.get(m.id or 0, [])) for m in messages
    ]
