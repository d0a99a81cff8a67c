"""Reports on forum and bulletin posts: to the teachers who moderate, and into the audit log."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.forums import posts
from twinspace_rt.forums.streams import Stream
from twinspace_rt.projects import audit
from twinspace_rt.storage.chat_models import Report


async def report(tx: AsyncSession, member: Member, post_id: int, reason: str) -> Report:
    """Anyone who may read a post may report it; the report row is shared with chat's."""
    post = await posts.by_id(tx, member, post_id)
    require(member, Action.content_report)
    assert post.id is not None
    entry = Report(
        project_id=member.project_id,
        reporter_id=member.user_id,
        kind=post.board,
        target_id=post.id,
        reason=reason,
    )
    tx.add(entry)
    audit.record(
        tx,
        member,
        f"{Stream(post.board).value}.report",
        post.author_id,
        post_id=post.id,
        thread_id=post.thread_id,
        reason=reason,
        text=post.body,
    )
    await tx.flush()
    return entry
