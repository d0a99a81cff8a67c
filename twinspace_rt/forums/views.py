"""Forums, threads and posts as members see them: the one payload for REST, pushes and replay.

A deleted post keeps its place with an empty body (a tombstone) and no attached materials;
bodies travel as their source and as the sanitised HTML of `forums/markup.py`, never as raw
HTML. Forum posts carry materials (`projects/attachments.py`); bulletin posts carry none.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.forums.markup import render
from twinspace_rt.projects import attachments
from twinspace_rt.projects.attachments import Attached, Links
from twinspace_rt.storage.forum_models import (
    Forum,
    ForumAttachment,
    ForumPost,
    ForumReaction,
    ForumThread,
)

LINKS = Links(ForumAttachment, "post_id")


def forum_payload(forum: Forum) -> dict[str, Any]:
    return {
        "id": forum.id,
        "title": forum.title,
        "description": forum.description,
        "position": forum.position,
        "created_by": forum.created_by,
        "created_at": forum.created_at.isoformat(),
    }


def thread_payload(thread: ForumThread) -> dict[str, Any]:
    return {
        "id": thread.id,
        "forum_id": thread.forum_id,
        "title": thread.title,
        "author_id": thread.author_id,
        "pinned": thread.pinned,
        "locked": thread.locked,
        "post_count": thread.post_count,
        "last_post_seq": thread.last_post_seq,
        "version": thread.version,
        "created_at": thread.created_at.isoformat(),
    }


def post_payload(
    post: ForumPost, reactions: dict[str, list[int]], materials: list[Attached] | None = None
) -> dict[str, Any]:
    deleted = None
    if post.deleted_at is not None:
        deleted = {"by": post.deleted_by, "at": post.deleted_at.isoformat()}
    return {
        "id": post.id,
        "board": post.board,
        "thread_id": post.thread_id,
        "seq": post.seq,
        "version": post.version,
        "author_id": post.author_id,
        "body": post.body,
        "html": render(post.body),
        "reply_to": post.reply_to,
        "created_at": post.created_at.isoformat(),
        "edited_at": post.edited_at.isoformat() if post.edited_at else None,
        "deleted": deleted,
        "reactions": reactions,
        "materials": [] if deleted else materials or [],
    }


async def post_payloads(tx: AsyncSession, posts: list[ForumPost]) -> list[dict[str, Any]]:
    """With their reactions and attached materials, read in two queries."""
    ids = [p.id for p in posts if p.id is not None]
    reactions: dict[int, dict[str, list[int]]] = {}
    if ids:
        found = await tx.exec(
            select(ForumReaction)
            .where(col(ForumReaction.post_id).in_(ids))
            .order_by(col(ForumReaction.id))
        )
        for reaction in found:
            by_emoji = reactions.setdefault(reaction.post_id, {})
            by_emoji.setdefault(reaction.emoji, []).append(reaction.user_id)
    attached = await attachments.of(tx, LINKS, ids)
    return [post_payload(p, reactions.get(p.id or 0, {}), attached.get(p.id or 0)) for p in posts]
