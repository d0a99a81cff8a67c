"""What is new for me: read markers per thread and for the bulletin, and the unread counts.

A marker holds the stream seq up to which the member has read; it only moves forward, so a
late marker from another device cannot rewind it. Unread posts are others' posts, not
deleted, with a larger seq.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.forums import threads
from twinspace_rt.forums.streams import Stream, last_seq
from twinspace_rt.storage.forum_models import (
    BulletinRead,
    Forum,
    ForumPost,
    ForumThread,
    ThreadRead,
)


async def mark_thread(tx: AsyncSession, member: Member, thread_id: int, seq: int) -> int:
    thread = await threads.by_id(tx, member, thread_id)
    assert thread.id is not None
    found = await tx.exec(
        select(ThreadRead).where(
            ThreadRead.thread_id == thread.id, ThreadRead.user_id == member.user_id
        )
    )
    marker = found.first() or ThreadRead(thread_id=thread.id, user_id=member.user_id)
    marker.last_read_seq = max(marker.last_read_seq, min(seq, thread.last_post_seq))
    tx.add(marker)
    await tx.flush()
    return marker.last_read_seq


async def mark_bulletin(tx: AsyncSession, member: Member, seq: int) -> int:
    require(member, Action.bulletin_read)
    newest = await last_seq(tx, member.project_id, Stream.bulletin)
    found = await tx.exec(
        select(BulletinRead).where(
            BulletinRead.project_id == member.project_id, BulletinRead.user_id == member.user_id
        )
    )
    marker = found.first() or BulletinRead(project_id=member.project_id, user_id=member.user_id)
    marker.last_read_seq = max(marker.last_read_seq, min(seq, newest))
    tx.add(marker)
    await tx.flush()
    return marker.last_read_seq


def _unread(member: Member) -> Any:
    return (
        col(ForumPost.project_id) == member.project_id,
        col(ForumPost.author_id) != member.user_id,
        col(ForumPost.deleted_at).is_(None),
    )


async def unread_threads(tx: AsyncSession, member: Member) -> list[dict[str, Any]]:
    """Threads with unread posts, with their forum's title, most recent activity first, in one
    grouped query (and one for the titles of the project's forums)."""
    require(member, Action.forum_read)
    marker = func.coalesce(ThreadRead.last_read_seq, 0)
    found = await tx.exec(
        select(ForumThread.id, ForumThread.forum_id, ForumThread.title, func.count())
        .join(ForumPost, col(ForumPost.thread_id) == col(ForumThread.id))
        .outerjoin(
            ThreadRead,
            (col(ThreadRead.thread_id) == col(ForumThread.id))
            & (col(ThreadRead.user_id) == member.user_id),
        )
        .where(*_unread(member), col(ForumPost.seq) > marker)
        .group_by(col(ForumThread.id), col(ForumThread.forum_id), col(ForumThread.title))
        .order_by(func.max(ForumPost.seq).desc())
    )
    rows = found.all()
    forums = dict(
        (
            await tx.exec(
                select(Forum.id, Forum.title).where(Forum.project_id == member.project_id)
            )
        ).all()
    )
    return [
        {
            "thread_id": tid,
            "forum_id": fid,
            "title": title,
            "forum_title": forums.get(fid, ""),
            "unread": count,
        }
        for tid, fid, title, count in rows
    ]


async def unread_bulletin(tx: AsyncSession, member: Member) -> int:
    require(member, Action.bulletin_read)
    marker = await tx.exec(
        select(BulletinRead.last_read_seq).where(
            BulletinRead.project_id == member.project_id, BulletinRead.user_id == member.user_id
        )
    )
    found = await tx.exec(
        select(func.count()).where(
            *_unread(member),
            ForumPost.board == Stream.bulletin.value,
            col(ForumPost.seq) > (marker.first() or 0),
        )
    )
    return found.one()
