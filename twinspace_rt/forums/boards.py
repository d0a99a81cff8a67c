"""Forums of a project: teacher administrators create, rename, order and delete them."""

from __future__ import annotations

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.forums.streams import Change, Stream, next_seq, record
from twinspace_rt.forums.views import forum_payload
from twinspace_rt.projects import audit
from twinspace_rt.storage.forum_models import Forum, ForumThread


async def of_project(tx: AsyncSession, member: Member) -> list[Forum]:
    require(member, Action.forum_read)
    found = await tx.exec(
        select(Forum)
        .where(Forum.project_id == member.project_id)
        .order_by(col(Forum.position), col(Forum.id))
    )
    return list(found)


async def by_id(tx: AsyncSession, member: Member, forum_id: int) -> Forum:
    """Only in the member's own project: another project's forum does not exist for them."""
    require(member, Action.forum_read)
    forum = await tx.get(Forum, forum_id)
    if forum is None or forum.project_id != member.project_id:
        raise AppError(ErrorCode.not_found, f"No forum {forum_id} in this project.")
    return forum


async def _changed(tx: AsyncSession, member: Member, forum: Forum, kind: str) -> Change:
    seq = await next_seq(tx, member.project_id, Stream.forum)
    return record(tx, member.project_id, Stream.forum, seq, kind, forum=forum_payload(forum))


async def create(
    tx: AsyncSession, member: Member, title: str, description: str, position: int | None
) -> tuple[Forum, Change]:
    require(member, Action.forum_manage)
    if position is None:
        found = await tx.exec(
            select(func.max(Forum.position)).where(Forum.project_id == member.project_id)
        )
        position = (found.one() or 0) + 1
    forum = Forum(
        project_id=member.project_id,
        title=title,
        description=description,
        position=position,
        created_by=member.user_id,
    )
    tx.add(forum)
    await tx.flush()
    audit.record(tx, member, "forum.create", None, forum_id=forum.id, title=title)
    return forum, await _changed(tx, member, forum, "forum.forum.created")


async def update(
    tx: AsyncSession,
    member: Member,
    forum_id: int,
    title: str | None,
    description: str | None,
    position: int | None,
) -> tuple[Forum, Change | None]:
    require(member, Action.forum_manage)
    forum = await by_id(tx, member, forum_id)
    changes: dict[str, object] = {}
    if title is not None and title != forum.title:
        changes["title"] = forum.title = title
    if description is not None and description != forum.description:
        changes["description"] = forum.description = description
    if position is not None and position != forum.position:
        changes["position"] = forum.position = position
    if not changes:
        return forum, None
    tx.add(forum)
    audit.record(tx, member, "forum.update", None, forum_id=forum.id, **changes)
    return forum, await _changed(tx, member, forum, "forum.forum.updated")


async def delete(tx: AsyncSession, member: Member, forum_id: int) -> Change:
    """Only an empty forum: threads are moved elsewhere first, so no discussion is lost."""
    require(member, Action.forum_manage)
    forum = await by_id(tx, member, forum_id)
    found = await tx.exec(select(ForumThread.id).where(ForumThread.forum_id == forum.id))
    if found.first() is not None:
        raise AppError(ErrorCode.conflict, "Move or empty the forum's threads before deleting it.")
    change = await _changed(tx, member, forum, "forum.forum.deleted")
    audit.record(tx, member, "forum.delete", None, forum_id=forum.id, title=forum.title)
    await tx.delete(forum)
    return change
