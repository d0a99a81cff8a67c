"""What teachers do about chat: mute a member, receive reports. Both land in the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.chat.channels import require_read
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import audit
from twinspace_rt.storage.chat_models import Channel, ChatMessage, Mute, Report
from twinspace_rt.storage.models import Membership


async def mute(tx: AsyncSession, actor: Member, user_id: int, minutes: int) -> datetime:
    """Zero minutes lifts a mute. Returns when the mute ends."""
    require(actor, Action.chat_moderate)
    found = await tx.exec(
        select(Membership).where(
            Membership.project_id == actor.project_id, Membership.user_id == user_id
        )
    )
    if found.first() is None:
        raise AppError(ErrorCode.not_found, f"User {user_id} is not a member of this project.")
    if user_id == actor.user_id:
        raise AppError(ErrorCode.forbidden, "Moderators cannot mute themselves.")
    until = datetime.now(UTC) + timedelta(minutes=minutes)
    existing = (
        await tx.exec(
            select(Mute).where(Mute.project_id == actor.project_id, Mute.user_id == user_id)
        )
    ).first()
    mute_row = existing or Mute(
        project_id=actor.project_id, user_id=user_id, until=until, muted_by=actor.user_id
    )
    mute_row.until = until
    mute_row.muted_by = actor.user_id
    tx.add(mute_row)
    audit.record(tx, actor, "chat.mute", user_id, minutes=minutes)
    await tx.flush()
    return until


async def report(
    tx: AsyncSession, member: Member, channel: Channel, seq: int, reason: str
) -> Report:
    require_read(member, channel)
    require(member, Action.content_report)
    found = await tx.exec(
        select(ChatMessage).where(ChatMessage.channel_id == channel.id, ChatMessage.seq == seq)
    )
    message = found.first()
    if message is None or message.id is None:
        raise AppError(ErrorCode.not_found, f"No message {seq} in #{channel.name}.")
    entry = Report(
        project_id=member.project_id,
        reporter_id=member.user_id,
        kind="chat",
        target_id=message.id,
        reason=reason,
    )
    tx.add(entry)
    audit.record(
        tx,
        member,
        "chat.report",
        message.author_id,
        channel=channel.name,
        seq=seq,
        reason=reason,
        text=message.text,
    )
    await tx.flush()
    return entry
