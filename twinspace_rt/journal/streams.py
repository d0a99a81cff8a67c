"""The journal's two streams, numbered and stored by the forums' stream machinery.

``journal`` carries what every reader may see (published posts and their comments);
``journal.mod`` carries every change, pupils' posts in review included, for the members who
moderate. Every reader of a stream is sent every change of it, hence two streams, as for the
forum and the bulletin.
"""

from __future__ import annotations

from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, can
from twinspace_rt.forums.streams import Change, next_seq, record, rewrite_post
from twinspace_rt.storage.page_models import JournalPost

EVERYONE = "journal"
MODERATORS = "journal.mod"
STREAMS = (EVERYONE, MODERATORS)
PUBLISHED = "published"
REVIEW = "review"


def stream_of(member: Member) -> str:
    return MODERATORS if can(member, Action.journal_moderate) else EVERYONE


async def next_version(tx: AsyncSession, project_id: int) -> int:
    """A post's version: the moderators' stream numbers every change of every post."""
    return await next_seq(tx, project_id, MODERATORS)


async def publish(
    tx: AsyncSession,
    post: JournalPost,
    public: bool,
    kind: str,
    payload: dict[str, Any],
    rewrite: bool = False,
) -> list[Change]:
    """Records the push in the moderators' stream (at ``post.version``), and in everyone's
    when the post is ``public`` there; an edit or a deletion rewrites what resume replays."""
    if rewrite:
        await rewrite_post(tx, payload, STREAMS)
    changes = [record(tx, post.project_id, MODERATORS, post.version, kind, post=payload)]
    if public:
        seq = await next_seq(tx, post.project_id, EVERYONE)
        changes.append(record(tx, post.project_id, EVERYONE, seq, kind, post=payload))
    return changes
