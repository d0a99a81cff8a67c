"""Channels and their member rules: who may read and who may write where.

The rules are spelled in policy actions, so the permission table stays the one source:
``all`` is the whole room, ``staff`` the teachers' room, ``pupils`` the supervised pupils' channel
(pupils write; teachers with ``chat.read_pupil_channel`` always read and moderate, and with
``chat.write_pupil_channel`` step in and write there, their messages marked as staff by the
client from the author's role).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, can, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.projects import audit
from twinspace_rt.storage.chat_models import Channel

CHANNEL_NAME_PATTERN = r"^[a-z0-9][a-z0-9-]{0,31}$"
_NAME_RE = re.compile(CHANNEL_NAME_PATTERN)


class ChannelRule(StrEnum):
    all = "all"
    staff = "staff"
    pupils = "pupils"


class ChannelInfo(Protocol):
    """What rules and fan-out need of a channel: a stored row or a light `ChannelRef`."""

    @property
    def id(self) -> int | None: ...

    @property
    def name(self) -> str: ...

    @property
    def rule(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A channel read without the ORM, for the hot path of posting."""

    id: int
    project_id: int
    name: str
    rule: str


DEFAULT_CHANNELS = [
    ("general", "General", ChannelRule.all),
    ("teachers", "Teachers' room", ChannelRule.staff),
    ("pupils", "Pupils", ChannelRule.pupils),
]


def readers(rule_name: str) -> list[Action]:
    """Beside ``chat.read``, any one of these reads a channel of the rule; none: everyone."""
    rule = ChannelRule(rule_name)
    if rule is ChannelRule.staff:
        return [Action.chat_staff_room]
    if rule is ChannelRule.pupils:
        return [Action.chat_pupil_channel, Action.chat_read_pupil_channel]
    return []


def can_read(member: Member, rule_name: str) -> bool:
    """Takes the rule, not the row, so live fan-out can decide without a database read."""
    needed = readers(rule_name)
    return can(member, Action.chat_read) and (
        not needed or any(can(member, action) for action in needed)
    )


def require_read(member: Member, channel: ChannelInfo) -> None:
    if not can_read(member, channel.rule):
        raise AppError(ErrorCode.forbidden, f"You may not read #{channel.name}.")


def require_write(member: Member, channel: ChannelInfo) -> None:
    require_read(member, channel)
    require(member, Action.chat_send)
    rule = ChannelRule(channel.rule)
    if rule is ChannelRule.pupils and not can(member, Action.chat_write_pupil_channel):
        require(member, Action.chat_pupil_channel)
    if rule is ChannelRule.staff:
        require(member, Action.chat_staff_room)


async def create_defaults(tx: AsyncSession, project_id: int, founder_id: int) -> None:
    for name, title, rule in DEFAULT_CHANNELS:
        tx.add(
            Channel(project_id=project_id, name=name, title=title, rule=rule, created_by=founder_id)
        )


async def create(
    tx: AsyncSession, actor: Member, name: str, title: str, rule: ChannelRule
) -> Channel:
    require(actor, Action.chat_manage_channels)
    if not _NAME_RE.fullmatch(name):
        raise AppError(
            ErrorCode.validation_failed,
            "A channel name is 1-32 lowercase letters, digits or '-', starting with a letter "
            "or digit.",
        )
    existing = await tx.exec(
        select(Channel.id).where(Channel.project_id == actor.project_id, Channel.name == name)
    )
    if existing.first() is not None:
        raise AppError(ErrorCode.conflict, f"A channel #{name} already exists.")
    channel = Channel(
        project_id=actor.project_id, name=name, title=title, rule=rule, created_by=actor.user_id
    )
    tx.add(channel)
    audit.record(tx, actor, "chat.channel.create", None, name=name, rule=rule.value)
    await tx.flush()
    return channel


async def of_project(tx: AsyncSession, project_id: int) -> list[Channel]:
    found = await tx.exec(
        select(Channel).where(Channel.project_id == project_id).order_by(col(Channel.id))
    )
    return list(found)


async def readable(tx: AsyncSession, member: Member) -> list[Channel]:
    """The project's channels this member may read, in creation order."""
    return [c for c in await of_project(tx, member.project_id) if can_read(member, c.rule)]


async def rule_of(tx: AsyncSession, project_id: int, name: str) -> str | None:
    """The rule of the project's channel ``name``; None when there is no such channel."""
    found = await tx.exec(
        select(Channel.rule).where(Channel.project_id == project_id, Channel.name == name)
    )
    return found.first()


async def by_name(tx: AsyncSession, member: Member, name: str) -> Channel:
    """The channel, if it exists in the member's project and they may read it."""
    found = await tx.exec(
        select(Channel).where(Channel.project_id == member.project_id, Channel.name == name)
    )
    channel = found.first()
    if channel is None:
        raise AppError(ErrorCode.not_found, f"No channel #{name} in this project.")
    require_read(member, channel)
    return channel
