"""The teachers' reports inbox: what pupils flagged in chat, and who decided what about it.

A report stays in the inbox until a moderator decides: dismiss it, delete the message, or
mute its author. The decision, its author and its time are kept on the report and in the
audit log, so a second teacher sees that a colleague already handled it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.chat import messages, moderation
from twinspace_rt.chat.messages import MessageView
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import audit
from twinspace_rt.storage.chat_models import Channel, ChatMessage, Report

Decision = Literal["dismiss", "delete", "mute"]
RESOLUTION: dict[str, str] = {"dismiss": "dismissed", "delete": "deleted", "mute": "muted"}
INBOX_SIZE = 100


@dataclass
class Resolved:
    report: dict[str, Any]
    channel: Channel
    deleted: MessageView | None  # the tombstone to publish, when the decision deleted it
    muted_until: datetime | None
    author_id: int


def payload(report: Report, message: ChatMessage, channel: Channel) -> dict[str, Any]:
    return {
        "id": report.id,
        "channel": channel.name,
        "seq": message.seq,
        "text": "" if message.deleted_at else message.text,
        "deleted": message.deleted_at is not None,
        "author_id": message.author_id,
        "reporter_id": report.reporter_id,
        "reason": report.reason,
        "created_at": report.created_at,
        "resolution": report.resolution,
        "resolved_by": report.resolved_by,
        "resolved_at": report.resolved_at,
    }


async def inbox(tx: AsyncSession, member: Member) -> list[dict[str, Any]]:
    """The project's chat reports, open ones first, then the latest decided, newest first."""
    require(member, Action.chat_moderate)
    found = await tx.exec(
        select(Report, ChatMessage, Channel)
        .join(ChatMessage, col(ChatMessage.id) == col(Report.target_id))
        .join(Channel, col(Channel.id) == col(ChatMessage.channel_id))
        .where(Report.project_id == member.project_id, Report.kind == "chat")
        .order_by(col(Report.resolved_at).is_not(None), col(Report.id).desc())
        .limit(INBOX_SIZE)
    )
    return [payload(report, message, channel) for report, message, channel in found.all()]


async def resolve(
    tx: AsyncSession,
    member: Member,
    report_id: int,
    decision: Decision,
    minutes: int,
    edit_window: timedelta,
) -> Resolved:
    require(member, Action.chat_moderate)
    found = await tx.exec(
        select(Report, ChatMessage, Channel)
        .join(ChatMessage, col(ChatMessage.id) == col(Report.target_id))
        .join(Channel, col(Channel.id) == col(ChatMessage.channel_id))
        .where(
            Report.id == report_id,
            Report.project_id == member.project_id,
            Report.kind == "chat",
        )
    )
    row = found.first()
    if row is None:
        raise AppError(ErrorCode.not_found, f"No chat report {report_id} in this project.")
    report, message, channel = row
    if report.resolved_at is not None:
        raise AppError(ErrorCode.conflict, "Another moderator has already decided this report.")
    deleted = None
    until = None
    if decision == "delete":
        deleted = await messages.delete(tx, member, channel, message.seq, edit_window)
    elif decision == "mute":
        if minutes < 1:
            raise AppError(
                ErrorCode.validation_failed, "A mute from a report lasts a minute or more."
            )
        until = await moderation.mute(tx, member, message.author_id, minutes)
    report.resolution = RESOLUTION[decision]
    report.resolved_by = member.user_id
    report.resolved_at = datetime.now(UTC)
    tx.add(report)
    audit.record(
        tx,
        member,
        "chat.report_resolved",
        message.author_id,
        report_id=report_id,
        resolution=report.resolution,
    )
    await tx.flush()
    return Resolved(payload(report, message, channel), channel, deleted, until, message.author_id)
