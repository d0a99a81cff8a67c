"""The erasure rewrites that columns cannot express: stored push frames, audit details,
others' mentions of the member, privacy jobs, and chat's change numbering.

Each table declared with ``Erase.custom`` has its rewrite in ``RUN`` (the registry test checks).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import JSON, Text, and_, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col
from sqlmodel import select as orm_select

from twinspace_rt.forums.views import post_payloads
from twinspace_rt.hub.protocol import encode
from twinspace_rt.materials.blobs import create_store
from twinspace_rt.privacy.context import PSEUDONYM, Erasure, Progress, key
from twinspace_rt.privacy.export import blob_key
from twinspace_rt.privacy.materials import erase_materials, erase_uploads
from twinspace_rt.privacy.tables import declared, in_project, table, textual
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.forum_models import ForumPost

# Keys of stored payloads whose value is a user id.
USER_KEYS = frozenset(
    {
        "author_id",
        "created_by",
        "user_id",
        "by",
        "actor_id",
        "target_user_id",
        "started_by",
        "ended_by",
        "muted_by",
        "deleted_by",
        "last_edited_by",
        "reporter_id",
        "uploader_id",
        "reviewed_by",
        "approved_by",
    }
)
ERASURE_ACTION = "privacy.erase"


def scrub(value: Any, erasure: Erasure) -> Any:
    """A payload with the member's id replaced by the pseudonym's, their reactions gone and
    their names out of its text."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for name, item in value.items():
            if name in USER_KEYS and item == erasure.subject:
                out[name] = erasure.placeholder
            elif name == "reactions" and isinstance(item, dict):
                out[name] = {
                    emoji: [u for u in ids if u != erasure.subject]
                    for emoji, ids in item.items()
                    if isinstance(ids, list) and any(u != erasure.subject for u in ids)
                }
            else:
                out[name] = scrub(item, erasure)
        return out
    if isinstance(value, list):
        return [scrub(item, erasure) for item in value]
    if isinstance(value, str):
        return erasure.name_pattern().sub(PSEUDONYM, value)
    return value


async def _audit(db: Database, erasure: Erasure, progress: Progress) -> None:
    """Entries about the member stay, pseudonymous and without details; the erasure's own
    record (which names only the pseudonym) keeps its details."""
    audit = table("audit_log")
    about = or_(audit.c.actor_id == erasure.subject, audit.c.target_user_id == erasure.subject)
    where = and_(about, in_project("audit_log", erasure.project_id))
    while True:
        async with db.transaction() as tx:
            connection = await tx.connection()
            ids = list(
                (
                    await connection.execute(select(audit.c.id).where(where).limit(erasure.batch))
                ).scalars()
            )
            if not ids:
                return
            chosen = audit.c.id.in_(ids)
            await connection.execute(
                update(audit).where(chosen, audit.c.action != ERASURE_ACTION).values(details={})
            )
            for name in ("actor_id", "target_user_id"):
                await connection.execute(
                    update(audit)
                    .where(chosen, audit.c[name] == erasure.subject)
                    .values({name: erasure.placeholder})
                )
        await progress()


async def _frames(db: Database, erasure: Erasure, progress: Progress) -> None:
    """Stored forum pushes, rewritten as the rows now are: resume never replays the member."""
    events = table("forum_events")
    where = in_project("forum_events", erasure.project_id)
    last = 0
    while True:
        async with db.transaction() as tx:
            connection = await tx.connection()
            rows = (
                await connection.execute(
                    select(events.c.id, events.c.frame)
                    .where(where, events.c.id > last)
                    .order_by(events.c.id)
                    .limit(erasure.batch)
                )
            ).all()
            if not rows:
                return
            last = rows[-1].id
            frames = {row.id: (row.frame, json.loads(row.frame)) for row in rows}
            theirs = {
                frame["post"]["id"]
                for _, frame in frames.values()
                if isinstance(frame.get("post"), dict)
                and frame["post"].get("author_id") in (erasure.subject, erasure.placeholder)
            }
            fresh: dict[int, dict[str, Any]] = {}
            if theirs:
                posts = await tx.exec(orm_select(ForumPost).where(col(ForumPost.id).in_(theirs)))
                fresh = {p["id"]: p for p in await post_payloads(tx, list(posts))}
            for event_id, (stored, frame) in frames.items():
                post = frame.get("post")
                if isinstance(post, dict) and post.get("id") in fresh:
                    frame["post"] = fresh[post["id"]]
                rewritten = encode(scrub(frame, erasure))
                if rewritten != stored:
                    await connection.execute(
                        update(events).where(events.c.id == event_id).values(frame=rewritten)
                    )
        await progress()


async def _jobs(db: Database, erasure: Erasure, progress: Progress) -> None:
    """The member's exports go with their files; earlier erasures forget whom they erased."""
    jobs = table("privacy_jobs")
    theirs = and_(
        jobs.c.subject_user_id == erasure.subject,
        jobs.c.id != erasure.job_id,
        in_project("privacy_jobs", erasure.project_id),
    )
    async with db.transaction() as tx:
        connection = await tx.connection()
        exports = (
            await connection.execute(
                select(jobs.c.id, jobs.c.file_name).where(theirs, jobs.c.kind == "export")
            )
        ).all()
        store = create_store(erasure.settings)
        try:
            for export in exports:
                if export.file_name:
                    await store.delete(blob_key(export.file_name))
        finally:
            await store.close()
        await connection.execute(delete(jobs).where(jobs.c.id.in_([e.id for e in exports])))
        await connection.execute(
            update(jobs).where(theirs, jobs.c.state == "done").values(subject_user_id=None)
        )
    await progress()


async def _mentions(db: Database, erasure: Erasure, progress: Progress) -> None:
    """Others' text that names the member (mentions, quotes) names the pseudonym instead."""
    pattern = erasure.name_pattern()
    if not any(erasure.names):
        return
    for declaration, target in declared():
        if declaration.scope is None or declaration.table == "forum_events":
            continue
        for name in declaration.personal:
            column = target.c[name]
            if not textual(column):
                continue
            text = column if not isinstance(column.type, JSON) else column.cast(Text)
            found = or_(*(text.icontains(n, autoescape=True) for n in erasure.names if n))
            where = and_(found, in_project(declaration.table, erasure.project_id))
            chosen_by = key(target)
            last: Any = None
            while True:
                async with db.transaction() as tx:
                    connection = await tx.connection()
                    query = select(chosen_by, column).where(where).order_by(chosen_by)
                    if last is not None:
                        query = query.where(chosen_by > last)
                    rows = (await connection.execute(query.limit(erasure.batch))).all()
                    if not rows:
                        break
                    last = rows[-1][0]
                    for row_key, value in rows:
                        if isinstance(value, str):
                            changed: Any = pattern.sub(PSEUDONYM, value)
                        else:
                            changed = scrub(value, erasure)
                        if changed != value:
                            await connection.execute(
                                update(target).where(chosen_by == row_key).values({column: changed})
                            )
                await progress()


async def _chat_versions(connection: AsyncConnection, ids: list[Any]) -> None:
    """A changed message takes its channel's next number, so resuming clients replay it."""
    messages = table("chat_messages")
    channels = table("chat_channels")
    rows = (
        await connection.execute(
            select(messages.c.id, messages.c.channel_id).where(messages.c.id.in_(ids))
        )
    ).all()
    for message_id, channel_id in rows:
        seq = (
            await connection.execute(
                update(channels)
                .where(channels.c.id == channel_id)
                .values(last_seq=channels.c.last_seq + 1)
                .returning(channels.c.last_seq)
            )
        ).scalar_one()
        await connection.execute(
            update(messages).where(messages.c.id == message_id).values(version=seq)
        )


RUN: dict[str, Callable[[Database, Erasure, Progress], Awaitable[None]]] = {
    "audit_log": _audit,
    "forum_events": _frames,
    "materials": erase_materials,
    "material_uploads": erase_uploads,
    "privacy_jobs": _jobs,
    "*": _mentions,
}
AFTER_AUTHORED: dict[str, Callable[[AsyncConnection, list[Any]], Awaitable[None]]] = {
    "chat_messages": _chat_versions,
}


async def run(db: Database, erasure: Erasure, name: str, progress: Progress) -> None:
    await RUN[name](db, erasure, progress)


async def after_authored(connection: AsyncConnection, name: str, ids: list[Any]) -> None:
    hook = AFTER_AUTHORED.get(name)
    if hook is not None:
        await hook(connection, ids)
