"""Journal posts and comments: write, edit, delete (tombstones), like, pin, approve, report.

Rules (the permission table decides each role's part):
- ``journal.post`` writes posts; a pupil's post follows the project's ``pupil_posts`` setting:
  ``off`` refuses it, ``review`` (the default) keeps it for teachers and its author until a
  moderator approves it, ``open`` publishes it at once.
- ``journal.react`` likes (idempotent) and comments, one level, on published posts only.
- Posts (not comments) carry the project's approved materials (`projects/attachments.py`).
- Authors edit and delete their own; ``journal.moderate`` edits, deletes, pins and approves
  anything, audited.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, Role, can, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.forums.streams import Change
from twinspace_rt.journal import settings, streams
from twinspace_rt.journal.streams import PUBLISHED, REVIEW
from twinspace_rt.journal.views import LINKS, payloads
from twinspace_rt.projects import attachments, audit
from twinspace_rt.storage.chat_models import Report
from twinspace_rt.storage.page_models import JournalLike, JournalPost

Result = tuple[dict[str, Any], list[Change]]


def _sees(member: Member, post: JournalPost) -> bool:
    return (
        post.state == PUBLISHED
        or post.author_id == member.user_id
        or can(member, Action.journal_moderate)
    )


async def by_id(tx: AsyncSession, member: Member, post_id: int) -> JournalPost:
    """A post or comment the member may see, locked for the change to come."""
    require(member, Action.journal_read)
    post = await tx.get(JournalPost, post_id, with_for_update=True, populate_existing=True)
    if post is None or post.project_id != member.project_id or not _sees(member, post):
        raise AppError(ErrorCode.not_found, f"No journal post {post_id} in this project.")
    return post


async def write(
    tx: AsyncSession,
    member: Member,
    body: str,
    parent_id: int | None,
    materials: list[int] | None = None,
) -> Result:
    if materials and parent_id is not None:
        raise AppError(ErrorCode.validation_failed, "Comments carry no materials.")
    attached = await attachments.check(tx, member, materials or [])
    if parent_id is None:
        require(member, Action.journal_post)
        state = PUBLISHED
        if member.role is Role.pupil:
            mode = (await settings.of_project(tx, member.project_id)).pupil_posts
            if mode == "off":
                raise AppError(ErrorCode.forbidden, "Pupils may not post in this journal.")
            state = REVIEW if mode == "review" else PUBLISHED
    else:
        require(member, Action.journal_react)
        parent = await by_id(tx, member, parent_id)
        if parent.parent_id is not None:
            raise AppError(ErrorCode.validation_failed, "Comments are one level: comment a post.")
        if parent.deleted_at is not None:
            raise AppError(ErrorCode.post_deleted, "You cannot comment on a deleted post.")
        if parent.state != PUBLISHED:
            raise AppError(ErrorCode.conflict, "Comments wait until the post is approved.")
        state = PUBLISHED
    version = await streams.next_version(tx, member.project_id)
    post = JournalPost(
        project_id=member.project_id,
        parent_id=parent_id,
        author_id=member.user_id,
        body=body,
        state=state,
        version=version,
    )
    tx.add(post)
    await tx.flush()
    assert post.id is not None
    await attachments.replace(tx, LINKS, post.id, attached)
    [shown] = await payloads(tx, [post])
    kind = "journal.comment.created" if parent_id else "journal.post.created"
    return shown, await streams.publish(tx, post, state == PUBLISHED, kind, shown)


async def edit(
    tx: AsyncSession,
    member: Member,
    post_id: int,
    body: str | None,
    materials: list[int] | None = None,
) -> Result:
    """A new body, or new attached materials (None: unchanged), or both."""
    post = await by_id(tx, member, post_id)
    if post.deleted_at is not None:
        raise AppError(ErrorCode.post_deleted)
    if post.author_id != member.user_id:
        require(member, Action.journal_moderate)
        audit.record(tx, member, "journal.edit", post.author_id, post_id=post.id, text=post.body)
    body = post.body if body is None else body
    [before] = await payloads(tx, [post])
    reattached = False
    if materials is not None:
        if materials and post.parent_id is not None:
            raise AppError(ErrorCode.validation_failed, "Comments carry no materials.")
        wanted = await attachments.check(tx, member, materials)
        if [m["id"] for m in wanted] != [m["id"] for m in before["materials"]]:
            assert post.id is not None
            await attachments.replace(tx, LINKS, post.id, wanted)
            reattached = True
    if body == post.body and not reattached:
        return before, []
    post.body = body
    post.edited_at = datetime.now(UTC)
    return await _changed(tx, post, "edited", rewrite=True)


async def delete(tx: AsyncSession, member: Member, post_id: int) -> Result:
    """Leaves a tombstone; deleting again changes nothing and tells nobody."""
    post = await by_id(tx, member, post_id)
    if post.deleted_at is not None:
        return (await payloads(tx, [post]))[0], []
    if post.author_id != member.user_id:
        require(member, Action.journal_moderate)
        audit.record(tx, member, "journal.delete", post.author_id, post_id=post.id, text=post.body)
    post.body = ""
    post.pinned = False
    assert post.id is not None
    await attachments.replace(tx, LINKS, post.id, [])
    post.deleted_at = datetime.now(UTC)
    post.deleted_by = member.user_id
    return await _changed(tx, post, "deleted", rewrite=True)


async def like(tx: AsyncSession, member: Member, post_id: int, on: bool) -> Result:
    """Liking twice is liking once: the second changes nothing and tells nobody."""
    require(member, Action.journal_react)
    post = await by_id(tx, member, post_id)
    if post.deleted_at is not None:
        raise AppError(ErrorCode.post_deleted)
    if post.state != PUBLISHED:
        raise AppError(ErrorCode.conflict, "Likes wait until the post is approved.")
    found = await tx.exec(
        select(JournalLike).where(
            JournalLike.post_id == post.id, JournalLike.user_id == member.user_id
        )
    )
    existing = found.first()
    if on == (existing is not None):
        return (await payloads(tx, [post]))[0], []
    if existing is not None:
        await tx.delete(existing)
    else:
        assert post.id is not None
        tx.add(JournalLike(post_id=post.id, user_id=member.user_id))
    return await _changed(tx, post, "liked")


async def moderate(
    tx: AsyncSession, member: Member, post_id: int, pinned: bool | None, approve: bool
) -> Result:
    require(member, Action.journal_moderate)
    post = await by_id(tx, member, post_id)
    if post.deleted_at is not None:
        raise AppError(ErrorCode.post_deleted)
    kind = None
    if approve and post.state == REVIEW:
        post.state = PUBLISHED
        post.approved_by = member.user_id
        audit.record(tx, member, "journal.approve", post.author_id, post_id=post.id)
        kind = "approved"
    if pinned is not None and pinned != post.pinned:
        if post.parent_id is not None or post.state != PUBLISHED:
            raise AppError(ErrorCode.conflict, "Only published posts are pinned.")
        post.pinned = pinned
        audit.record(tx, member, "journal.pin", post.author_id, post_id=post.id, pinned=pinned)
        kind = kind or "pinned"
    if kind is None:
        return (await payloads(tx, [post]))[0], []
    return await _changed(tx, post, kind)


async def report(tx: AsyncSession, member: Member, post_id: int, reason: str) -> Report:
    """Into the reports table shared with chat and forums, and the audit log."""
    require(member, Action.content_report)
    post = await by_id(tx, member, post_id)
    assert post.id is not None
    entry = Report(
        project_id=member.project_id,
        reporter_id=member.user_id,
        kind="journal",
        target_id=post.id,
        reason=reason,
    )
    tx.add(entry)
    audit.record(
        tx, member, "journal.report", post.author_id, post_id=post.id, reason=reason, text=post.body
    )
    await tx.flush()
    return entry


async def _changed(tx: AsyncSession, post: JournalPost, kind: str, rewrite: bool = False) -> Result:
    post.version = await streams.next_version(tx, post.project_id)
    tx.add(post)
    await tx.flush()
    [shown] = await payloads(tx, [post])
    noun = "comment" if post.parent_id else "post"
    public = post.state == PUBLISHED
    return shown, await streams.publish(tx, post, public, f"journal.{noun}.{kind}", shown, rewrite)


async def listed(
    tx: AsyncSession, member: Member, before: int | None, limit: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int | None]:
    """Pinned posts, then the others newest first (keyset on id); comments come per post."""
    require(member, Action.journal_read)
    query = select(JournalPost).where(
        JournalPost.project_id == member.project_id, col(JournalPost.parent_id).is_(None)
    )
    if not can(member, Action.journal_moderate):
        query = query.where(
            or_(JournalPost.state == PUBLISHED, JournalPost.author_id == member.user_id)
        )
    pinned = [] if before else list(await tx.exec(query.where(col(JournalPost.pinned))))
    rest = query.where(col(JournalPost.pinned).is_(False))
    if before is not None:
        rest = rest.where(col(JournalPost.id) < before)
    found = list(await tx.exec(rest.order_by(col(JournalPost.id).desc()).limit(limit)))
    next_before = found[-1].id if len(found) == limit else None
    return await payloads(tx, pinned), await payloads(tx, found), next_before


async def comments(tx: AsyncSession, member: Member, post_id: int) -> list[dict[str, Any]]:
    post = await by_id(tx, member, post_id)
    found = await tx.exec(
        select(JournalPost).where(JournalPost.parent_id == post.id).order_by(col(JournalPost.id))
    )
    return await payloads(tx, list(found))
