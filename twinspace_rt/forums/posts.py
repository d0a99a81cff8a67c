"""Posts: replies in threads and posts on the teachers' bulletin; edits, tombstones, reactions.

Rules (the permission table decides each role's part):
- forum: members with ``forum.reply`` reply; authors edit and delete within the edit window;
  ``forum.moderate`` edits and deletes anything, any time, audited. A locked thread takes no
  new posts or changes except from moderators.
- bulletin: ``bulletin.post`` posts, authors edit within the window and delete their own any
  time; ``bulletin.moderate`` (teacher administrators) deletes anyone's post, audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, can, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.forums import threads
from twinspace_rt.forums.streams import (
    READ_ACTION,
    Change,
    Stream,
    new_post,
    next_seq,
    record,
    rewrite_post,
)
from twinspace_rt.forums.views import LINKS, post_payloads, thread_payload
from twinspace_rt.projects import attachments, audit
from twinspace_rt.storage.forum_models import ForumPost, ForumReaction, ForumThread

WRITE_ACTION = {Stream.forum: Action.forum_reply, Stream.bulletin: Action.bulletin_post}
MODERATE_ACTION = {Stream.forum: Action.forum_moderate, Stream.bulletin: Action.bulletin_moderate}


async def by_id(tx: AsyncSession, member: Member, post_id: int) -> ForumPost:
    """A post the member may read: others' projects and, for pupils, the bulletin do not exist.

    Locked for the change to come, so an edit or reaction sees a deletion that committed first.
    """
    post = await tx.get(ForumPost, post_id, with_for_update=True, populate_existing=True)
    if (
        post is None
        or post.project_id != member.project_id
        or not can(member, READ_ACTION[Stream(post.board)])
    ):
        raise AppError(ErrorCode.not_found, f"No post {post_id} in this project.")
    return post


async def reply(
    tx: AsyncSession,
    member: Member,
    thread_id: int,
    body: str,
    reply_to: int | None,
    materials: list[int] | None = None,
) -> tuple[ForumPost, Change]:
    require(member, Action.forum_reply)
    attached = await attachments.check(tx, member, materials or [])
    # The stream's counter first: its row lock orders concurrent replies, so the thread's
    # counts read below are current (PostgreSQL reads them after the previous reply committed).
    seq = await next_seq(tx, member.project_id, Stream.forum)
    thread = await threads.by_id(tx, member, thread_id)
    _check_unlocked(member, thread)
    if reply_to is not None:
        parent = await tx.get(ForumPost, reply_to)
        if parent is None or parent.thread_id != thread.id:
            raise AppError(ErrorCode.not_found, f"No post {reply_to} in this thread.")
        if parent.deleted_at is not None:
            raise AppError(ErrorCode.post_deleted, "You cannot reply to a deleted post.")
    post = new_post(member, Stream.forum, seq, body, thread_id=thread.id, reply_to=reply_to)
    thread.post_count += 1
    thread.last_post_seq = seq
    tx.add_all([post, thread])
    await tx.flush()
    assert post.id is not None
    await attachments.replace(tx, LINKS, post.id, attached)
    [payload] = await post_payloads(tx, [post])
    change = record(
        tx,
        member.project_id,
        Stream.forum,
        seq,
        "forum.post.created",
        post=payload,
        thread=thread_payload(thread),
    )
    return post, change


async def post_bulletin(tx: AsyncSession, member: Member, body: str) -> tuple[ForumPost, Change]:
    require(member, Action.bulletin_post)
    seq = await next_seq(tx, member.project_id, Stream.bulletin)
    post = new_post(member, Stream.bulletin, seq, body)
    tx.add(post)
    await tx.flush()
    [payload] = await post_payloads(tx, [post])
    change = record(
        tx, member.project_id, Stream.bulletin, seq, "bulletin.post.created", post=payload
    )
    return post, change


async def edit(
    tx: AsyncSession, member: Member, post_id: int, body: str, window: timedelta
) -> tuple[dict[str, Any], Change | None]:
    post = await by_id(tx, member, post_id)
    stream = Stream(post.board)
    if post.deleted_at is not None:
        raise AppError(ErrorCode.post_deleted)
    is_author = post.author_id == member.user_id
    if stream is Stream.forum and not is_author and can(member, Action.forum_moderate):
        audit.record(tx, member, "forum.post.edit", post.author_id, post_id=post.id, text=post.body)
    elif is_author:
        require(member, WRITE_ACTION[stream])
        _check_window(post, window)
    else:
        raise AppError(ErrorCode.forbidden, "Only the author or a moderator may edit a post.")
    await _check_thread_open(tx, member, post)
    if body == post.body:
        return (await post_payloads(tx, [post]))[0], None
    post.body = body
    post.edited_at = datetime.now(UTC)
    return await _changed(tx, member, post, "edited")


async def delete(
    tx: AsyncSession, member: Member, post_id: int, window: timedelta
) -> tuple[dict[str, Any], Change | None]:
    """Leaves a tombstone in place; deleting again changes nothing and tells nobody."""
    post = await by_id(tx, member, post_id)
    stream = Stream(post.board)
    if post.deleted_at is not None:
        return (await post_payloads(tx, [post]))[0], None
    is_author = post.author_id == member.user_id
    if not is_author and can(member, MODERATE_ACTION[stream]):
        audit.record(
            tx,
            member,
            f"{stream.value}.post.delete",
            post.author_id,
            post_id=post.id,
            text=post.body,
        )
    elif is_author:
        require(member, WRITE_ACTION[stream])
        if stream is Stream.forum:
            _check_window(post, window)
            await _check_thread_open(tx, member, post)
    else:
        raise AppError(ErrorCode.forbidden, "Only the author or a moderator may delete a post.")
    post.body = ""
    post.deleted_at = datetime.now(UTC)
    post.deleted_by = member.user_id
    assert post.id is not None
    await attachments.replace(tx, LINKS, post.id, [])
    return await _changed(tx, member, post, "deleted")


async def react(
    tx: AsyncSession, member: Member, post_id: int, emoji: str, on: bool
) -> tuple[dict[str, Any], Change | None]:
    post = await by_id(tx, member, post_id)
    require(member, WRITE_ACTION[Stream(post.board)])
    if post.deleted_at is not None:
        raise AppError(ErrorCode.post_deleted)
    await _check_thread_open(tx, member, post)
    found = await tx.exec(
        select(ForumReaction).where(
            ForumReaction.post_id == post.id,
            ForumReaction.user_id == member.user_id,
            ForumReaction.emoji == emoji,
        )
    )
    existing = found.first()
    if on == (existing is not None):
        return (await post_payloads(tx, [post]))[0], None
    if existing is not None:
        await tx.delete(existing)
    else:
        assert post.id is not None
        tx.add(ForumReaction(post_id=post.id, user_id=member.user_id, emoji=emoji))
    return await _changed(tx, member, post, "reaction")


async def _changed(
    tx: AsyncSession, member: Member, post: ForumPost, change: str
) -> tuple[dict[str, Any], Change]:
    stream = Stream(post.board)
    post.version = await next_seq(tx, member.project_id, stream)
    tx.add(post)
    await tx.flush()
    [payload] = await post_payloads(tx, [post])
    if change in ("edited", "deleted"):
        await rewrite_post(tx, payload)
    kind = f"{stream.value}.post.{change}"
    return payload, record(tx, member.project_id, stream, post.version, kind, post=payload)


async def _check_thread_open(tx: AsyncSession, member: Member, post: ForumPost) -> None:
    if post.thread_id is not None:
        thread = await tx.get(ForumThread, post.thread_id)
        assert thread is not None
        _check_unlocked(member, thread)


def _check_unlocked(member: Member, thread: ForumThread) -> None:
    if thread.locked and not can(member, Action.forum_moderate):
        raise AppError(ErrorCode.thread_locked)


def _check_window(post: ForumPost, window: timedelta) -> None:
    if datetime.now(UTC) - post.created_at > window:
        raise AppError(ErrorCode.edit_window_passed)


async def in_thread(
    tx: AsyncSession, member: Member, thread_id: int, after: int | None, limit: int
) -> tuple[ForumThread, list[dict[str, Any]], int | None]:
    """Oldest first, keyset on ``seq``: new replies only ever join the end."""
    thread = await threads.by_id(tx, member, thread_id)
    query = select(ForumPost).where(ForumPost.thread_id == thread.id)
    if after is not None:
        query = query.where(col(ForumPost.seq) > after)
    found = list(await tx.exec(query.order_by(col(ForumPost.seq)).limit(limit)))
    next_after = found[-1].seq if len(found) == limit else None
    return thread, await post_payloads(tx, found), next_after


async def on_bulletin(
    tx: AsyncSession, member: Member, before: int | None, limit: int
) -> tuple[list[dict[str, Any]], int | None]:
    """Newest first, keyset on ``seq``: new posts land above the pages already read."""
    require(member, Action.bulletin_read)
    query = select(ForumPost).where(
        ForumPost.project_id == member.project_id, ForumPost.board == Stream.bulletin.value
    )
    if before is not None:
        query = query.where(col(ForumPost.seq) < before)
    found = list(await tx.exec(query.order_by(col(ForumPost.seq).desc()).limit(limit)))
    next_before = found[-1].seq if len(found) == limit else None
    return await post_payloads(tx, found), next_before
