"""Journal posts and comments as members see them: the one payload for REST, pushes and replay.

Bodies travel as their source and as the sanitised HTML of the forums' light markup; a deleted
post keeps its place with an empty body (a tombstone) and no attached materials.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.forums.markup import render
from twinspace_rt.projects import attachments
from twinspace_rt.projects.attachments import Attached, Links
from twinspace_rt.storage.models import User
from twinspace_rt.storage.page_models import JournalAttachment, JournalLike, JournalPost

LINKS = Links(JournalAttachment, "post_id")


def payload(
    post: JournalPost,
    author: str,
    likes: list[int],
    comment_count: int,
    materials: list[Attached] | None = None,
) -> dict[str, Any]:
    deleted = None
    if post.deleted_at is not None:
        deleted = {"by": post.deleted_by, "at": post.deleted_at.isoformat()}
    return {
        "id": post.id,
        "parent_id": post.parent_id,
        "author_id": post.author_id,
        "author": author,
        "body": post.body,
        "html": render(post.body),
        "state": post.state,
        "pinned": post.pinned,
        "version": post.version,
        "likes": likes,
        "comment_count": comment_count,
        "created_at": post.created_at.isoformat(),
        "edited_at": post.edited_at.isoformat() if post.edited_at else None,
        "deleted": deleted,
        "materials": [] if deleted else materials or [],
    }


async def payloads(tx: AsyncSession, posts: list[JournalPost]) -> list[dict[str, Any]]:
    """With authors, likes, comment counts and attached materials, read in four queries."""
    ids = [p.id for p in posts if p.id is not None]
    if not ids:
        return []
    names = dict(
        (
            await tx.exec(
                select(User.id, User.display_name).where(
                    col(User.id).in_({p.author_id for p in posts})
                )
            )
        ).all()
    )
    likes: dict[int, list[int]] = {}
    found = await tx.exec(
        select(JournalLike).where(col(JournalLike.post_id).in_(ids)).order_by(col(JournalLike.id))
    )
    for like in found:
        likes.setdefault(like.post_id, []).append(like.user_id)
    counted = await tx.exec(
        select(JournalPost.parent_id, func.count())
        .where(col(JournalPost.parent_id).in_(ids), col(JournalPost.deleted_at).is_(None))
        .group_by(col(JournalPost.parent_id))
    )
    comments = {parent: int(n) for parent, n in counted.all()}
    attached = await attachments.of(tx, LINKS, ids)
    return [
        payload(
            p,
            names.get(p.author_id, ""),
            likes.get(p.id or 0, []),
            comments.get(p.id or 0, 0),
            attached.get(p.id or 0),
        )
        for p in posts
    ]
