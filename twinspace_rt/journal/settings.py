"""A project's publishing choices (`storage/page_models.Publishing`), made on first use."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.storage.page_models import Publishing
from twinspace_rt.storage.rows import insert_missing


async def of_project(tx: AsyncSession, project_id: int, lock: bool = False) -> Publishing:
    """``INSERT … ON CONFLICT DO NOTHING`` first, so two first uses at once make one row."""
    await insert_missing(
        tx,
        Publishing,
        ["project_id"],
        project_id=project_id,
        pupil_posts="review",
        showcase_on=False,
        indexable=False,
        pupil_names="first_name",
        languages="en",
    )
    query = select(Publishing).where(Publishing.project_id == project_id)
    found = await tx.exec(query.with_for_update() if lock else query)
    return found.one()
