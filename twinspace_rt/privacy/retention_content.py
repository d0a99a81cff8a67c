"""What retention removes beyond plain rows: journal posts with their comments and stored
pushes, expired exports, and a deleted project's blobs (materials with their files go through
`privacy/materials.py`, as in an erasure).

`retention.py` decides what is due and when; this module knows how each kind of content goes
without leaving a trace elsewhere (a blob, a stored push frame, a showcase entry).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, or_, select, update

from twinspace_rt.journal.streams import STREAMS as JOURNAL_STREAMS
from twinspace_rt.materials.blobs import BlobStore, parts_prefix, project_prefix
from twinspace_rt.privacy import export
from twinspace_rt.privacy.context import Progress
from twinspace_rt.privacy.tables import delete_rows, table
from twinspace_rt.storage.engine import Database

# (db, store, the rows that are due, batch size, progress) -> how many went.
Remover = Callable[[Database, BlobStore, Any, int, Progress], Awaitable[int]]


def journal_due(project_id: int, cutoff: datetime) -> Any:
    """Posts older than ``cutoff``, and every comment of such a post (a comment never outlives
    its post, and is never left without one)."""
    posts = table("journal_posts")
    parent = posts.alias("parent")
    old_posts = select(parent.c.id).where(
        parent.c.project_id == project_id,
        parent.c.parent_id.is_(None),
        parent.c.created_at < cutoff,
    )
    return and_(
        posts.c.project_id == project_id,
        or_(posts.c.created_at < cutoff, posts.c.parent_id.in_(old_posts.scalar_subquery())),
    )


async def remove_journal(
    db: Database, store: BlobStore, where: Any, batch: int, progress: Progress
) -> int:
    """Comments first (so no batch ever cuts a comment from its post), each batch with its
    likes, its stored pushes in the journal's streams and its showcase entries."""
    posts = table("journal_posts")
    events = table("forum_events")
    showcase = table("showcase_items")
    removed = 0
    while True:
        async with db.transaction() as tx:
            connection = await tx.connection()
            ids = list(
                (
                    await connection.execute(
                        select(posts.c.id)
                        .where(where)
                        .order_by(posts.c.parent_id.is_(None), posts.c.id)
                        .limit(batch)
                    )
                ).scalars()
            )
            if not ids:
                return removed
            await connection.execute(
                delete(events).where(
                    events.c.stream.in_(JOURNAL_STREAMS), events.c.post_id.in_(ids)
                )
            )
            await connection.execute(
                delete(showcase).where(showcase.c.kind == "post", showcase.c.target_id.in_(ids))
            )
            removed += await delete_rows(connection, posts, ids)
        await progress()


async def expire_exports(db: Database, store: BlobStore, before: datetime) -> int:
    """Exports finished before ``before``: the archive leaves the store, the job says
    ``expired`` (its requester asks again). The blob goes first: a crash in between leaves a
    job pointing to nothing, never an archive nobody can find."""
    jobs = table("privacy_jobs")
    async with db.reader() as tx:
        due = (
            await (await tx.connection()).execute(
                select(jobs.c.id, jobs.c.file_name).where(
                    jobs.c.kind == "export", jobs.c.state == "done", jobs.c.finished_at < before
                )
            )
        ).all()
    for job_id, file_name in due:
        if file_name:
            await store.delete(export.blob_key(file_name))
        async with db.transaction() as tx:
            await (await tx.connection()).execute(
                update(jobs).where(jobs.c.id == job_id).values(state="expired", file_name=None)
            )
    return len(due)


async def delete_project_blobs(db: Database, store: BlobStore, project_id: int) -> None:
    """Before a closed project's rows go: its materials' files, unfinished uploads' parts and
    exports. Blobs first, so a crash never leaves a file that no row leads to."""
    uploads = table("material_uploads")
    jobs = table("privacy_jobs")
    async with db.reader() as tx:
        connection = await tx.connection()
        upload_ids = list(
            (
                await connection.execute(
                    select(uploads.c.id).where(uploads.c.project_id == project_id)
                )
            ).scalars()
        )
        files = list(
            (
                await connection.execute(
                    select(jobs.c.file_name).where(
                        jobs.c.project_id == project_id, jobs.c.file_name.is_not(None)
                    )
                )
            ).scalars()
        )
    for upload_id in upload_ids:
        await store.delete_prefix(parts_prefix(upload_id))
    for file_name in files:
        await store.delete(export.blob_key(file_name))
    await store.delete_prefix(project_prefix(project_id))
