"""Threads: opened with their first post, listed by activity, pinned, locked, moved, renamed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, can, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.forums import boards
from twinspace_rt.forums.streams import Change, Stream, new_post, next_seq, record
from twinspace_rt.forums.views import LINKS, post_payload, thread_payload
from twinspace_rt.projects import attachments, audit
from twinspace_rt.storage.forum_models import ForumPost, ForumThread


async def by_id(tx: AsyncSession, member: Member, thread_id: int) -> ForumThread:
    require(member, Action.forum_read)
    thread = await tx.get(ForumThread, thread_id)
    if thread is None or thread.project_id != member.project_id:
        raise AppError(ErrorCode.not_found, f"No thread {thread_id} in this project.")
    return thread


async def open_thread(
    tx: AsyncSession,
    member: Member,
    forum_id: int,
    title: str,
    body: str,
    materials: list[int] | None = None,
) -> tuple[ForumThread, ForumPost, Change]:
    require(member, Action.forum_create_thread)
    attached = await attachments.check(tx, member, materials or [])
    forum = await boards.by_id(tx, member, forum_id)
    seq = await next_seq(tx, member.project_id, Stream.forum)
    assert forum.id is not None
    thread = ForumThread(
        project_id=member.project_id,
        forum_id=forum.id,
        title=title,
        author_id=member.user_id,
        post_count=1,
        last_post_seq=seq,
        version=seq,
    )
    tx.add(thread)
    await tx.flush()
    post = new_post(member, Stream.forum, seq, body, thread_id=thread.id)
    tx.add(post)
    await tx.flush()
    assert post.id is not None
    await attachments.replace(tx, LINKS, post.id, attached)
    change = record(
        tx,
        member.project_id,
        Stream.forum,
        seq,
        "forum.thread.created",
        thread=thread_payload(thread),
        post=post_payload(post, {}, attached),
    )
    return thread, post, change


@dataclass
class ThreadPage:
    pinned: list[ForumThread]
    threads: list[ForumThread]
    next_before: int | None


async def list_threads(
    tx: AsyncSession, member: Member, forum_id: int, before: int | None, limit: int
) -> ThreadPage:
    """Most recent activity first, keyset on ``last_post_seq`` (unique per project).

    A new thread or reply lands above every page already read, so later pages never shift;
    pinned threads come once, on the first page, outside the paging.
    """
    forum = await boards.by_id(tx, member, forum_id)
    query = select(ForumThread).where(ForumThread.forum_id == forum.id)
    pinned: list[ForumThread] = []
    if before is None:
        found = await tx.exec(
            query.where(col(ForumThread.pinned)).order_by(col(ForumThread.last_post_seq).desc())
        )
        pinned = list(found)
    else:
        query = query.where(col(ForumThread.last_post_seq) < before)
    found = await tx.exec(
        query.where(col(ForumThread.pinned).is_(False))
        .order_by(col(ForumThread.last_post_seq).desc())
        .limit(limit)
    )
    threads = list(found)
    next_before = threads[-1].last_post_seq if len(threads) == limit else None
    return ThreadPage(pinned, threads, next_before)


async def update(
    tx: AsyncSession,
    member: Member,
    thread_id: int,
    *,
    title: str | None,
    pinned: bool | None,
    locked: bool | None,
    forum_id: int | None,
    window: timedelta,
) -> tuple[ForumThread, list[Change]]:
    """Each kind of change is its own event (``renamed``, ``pinned``, ``locked``, ``moved``).

    Authors may rename within the edit window; pin, lock and move are for moderators, and
    every moderator action is audited.
    """
    thread = await by_id(tx, member, thread_id)
    moderator = can(member, Action.forum_moderate)
    changes: list[tuple[str, dict[str, object]]] = []
    if title is not None and title != thread.title:
        if not moderator:
            _require_author_in_window(member, thread, window)
        changes.append(("forum.thread.renamed", {"title": title, "was": thread.title}))
        thread.title = title
    for kind, value, current in (
        ("forum.thread.pinned", pinned, thread.pinned),
        ("forum.thread.locked", locked, thread.locked),
    ):
        if value is not None and value != current:
            require(member, Action.forum_moderate)
            changes.append((kind, {kind.rsplit(".", 1)[1]: value}))
    if pinned is not None:
        thread.pinned = pinned
    if locked is not None:
        thread.locked = locked
    if forum_id is not None and forum_id != thread.forum_id:
        require(member, Action.forum_moderate)
        target = await boards.by_id(tx, member, forum_id)
        changes.append(("forum.thread.moved", {"from": thread.forum_id, "to": target.id}))
        assert target.id is not None
        thread.forum_id = target.id
    recorded: list[Change] = []
    for kind, details in changes:
        if moderator and not (kind.endswith("renamed") and thread.author_id == member.user_id):
            audit.record(tx, member, kind, thread.author_id, thread_id=thread.id, **details)
        thread.version = await next_seq(tx, member.project_id, Stream.forum)
        tx.add(thread)
        await tx.flush()
        recorded.append(
            record(
                tx,
                member.project_id,
                Stream.forum,
                thread.version,
                kind,
                thread=thread_payload(thread),
            )
        )
    return thread, recorded


def _require_author_in_window(member: Member, thread: ForumThread, window: timedelta) -> None:
    if thread.author_id != member.user_id:
        raise AppError(ErrorCode.forbidden, "Only the author or a moderator may rename a thread.")
    require(member, Action.forum_create_thread)
    if thread.locked:
        raise AppError(ErrorCode.thread_locked)
    if datetime.now(UTC) - thread.created_at > window:
        raise AppError(ErrorCode.edit_window_passed)
