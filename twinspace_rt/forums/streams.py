"""Numbering and logging stream changes: the seq a change takes, and the frame resume replays.

Every change of a project's forums takes the next number of its stream (``forum``, or
``bulletin`` for the teachers' board) and stores its encoded push in ``forum_events``, in the
same transaction as the change itself. The counter row is locked by the ``UPDATE`` until commit,
so numbers commit in order and a resuming client can never miss one. Pages and the journal
number their changes with the same functions, in streams of their own names (`pages/menu.py`,
`journal/streams.py`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member
from twinspace_rt.hub.protocol import encode, push
from twinspace_rt.storage.forum_models import ForumEvent, ForumPost, ForumStream
from twinspace_rt.storage.rows import insert_missing


class Stream(StrEnum):
    forum = "forum"
    bulletin = "bulletin"


def new_post(
    member: Member,
    stream: Stream,
    seq: int,
    body: str,
    thread_id: int | None = None,
    reply_to: int | None = None,
) -> ForumPost:
    """A post by ``member`` numbered ``seq`` in its stream; its first version is that number,
    as every later change to it takes the stream's next one."""
    return ForumPost(
        project_id=member.project_id,
        board=stream.value,
        thread_id=thread_id,
        seq=seq,
        version=seq,
        author_id=member.user_id,
        body=body,
        reply_to=reply_to,
    )


# Who may receive a stream's changes: every holder of the action receives every change.
READ_ACTION = {Stream.forum: Action.forum_read, Stream.bulletin: Action.bulletin_read}


@dataclass(frozen=True, slots=True)
class Change:
    """A stored change, published on the project's topic after the commit."""

    stream: str
    seq: int
    frame: str


async def next_seq(tx: AsyncSession, project_id: int, stream: str) -> int:
    """Creates the counter on first use; ``INSERT … ON CONFLICT DO NOTHING`` races safely."""
    await insert_missing(
        tx,
        ForumStream,
        ["project_id", "stream"],
        project_id=project_id,
        stream=str(stream),
        last_seq=0,
    )
    result = await tx.exec(
        update(ForumStream)
        .where(col(ForumStream.project_id) == project_id, col(ForumStream.stream) == str(stream))
        .values(last_seq=col(ForumStream.last_seq) + 1)
        .returning(col(ForumStream.last_seq))
    )
    return int(result.scalar_one())


def record(
    tx: AsyncSession, project_id: int, stream: str, seq: int, kind: str, **payload: Any
) -> Change:
    """Stores the push for ``seq`` (taken with ``next_seq`` in this transaction)."""
    frame = push(kind, stream=str(stream), seq=seq, **payload)
    post = payload.get("post")
    tx.add(
        ForumEvent(
            project_id=project_id,
            stream=str(stream),
            seq=seq,
            post_id=post["id"] if post else None,
            frame=frame,
        )
    )
    return Change(str(stream), seq, frame)


async def rewrite_post(
    tx: AsyncSession, post: dict[str, Any], streams: tuple[str, ...] | None = None
) -> None:
    """Earlier stored frames of a post now carry its current state.

    So a member who resumes after a moderator deleted a post replays its tombstone, never the
    deleted text, just as chat replays each message as it is now. Only the frames of the post's
    own streams (its ``board`` unless named): post ids are per table, so pages and the journal
    share the numbers.
    """
    found = await tx.exec(
        select(ForumEvent).where(
            ForumEvent.post_id == post["id"],
            col(ForumEvent.stream).in_(streams or (post["board"],)),
        )
    )
    for event in found:
        frame = json.loads(event.frame)
        frame["post"] = post
        event.frame = encode(frame)
        tx.add(event)


async def last_seq(tx: AsyncSession, project_id: int, stream: str) -> int:
    found = await tx.exec(
        select(ForumStream.last_seq).where(
            ForumStream.project_id == project_id, ForumStream.stream == str(stream)
        )
    )
    return found.first() or 0


@dataclass
class Backlog:
    frames: list[tuple[int, str]]
    recovered: bool
    reason: str | None
    last_seq: int


async def changes_since(
    tx: AsyncSession, project_id: int, stream: str, since: int | None, most: int
) -> Backlog:
    """Every stored change after ``since``, in order; refuses a gap beyond ``most``."""
    newest = await last_seq(tx, project_id, stream)
    if since is None:
        return Backlog([], True, None, newest)
    if since > newest:
        return Backlog([], False, "unknown_position", newest)
    found = await tx.exec(
        select(ForumEvent.seq, ForumEvent.frame)
        .where(
            ForumEvent.project_id == project_id,
            ForumEvent.stream == str(stream),
            col(ForumEvent.seq) > since,
        )
        .order_by(col(ForumEvent.seq))
        .limit(most + 1)
    )
    frames = [(seq, frame) for seq, frame in found.all()]
    if len(frames) > most:
        return Backlog([], False, "too_far_behind", newest)
    return Backlog(frames, True, None, newest)
