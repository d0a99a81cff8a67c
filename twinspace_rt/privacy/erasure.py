"""Erasing a member, step by step from the declarations, in batches that any node can resume.

A plan is a list of steps, one per declared column that points to users (custom rewrites
last, since they mirror rows the other steps change). Each step repeats one small transaction
until no row of the member is left in it, so a step cut short by a crash is simply run again:
its condition (``column = member``) no longer matches what it already did. The job row keeps
how many steps are done (`jobs.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, Table, case, cast, delete, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from twinspace_rt.privacy import custom
from twinspace_rt.privacy.context import Erasure, Progress, key
from twinspace_rt.privacy.tables import declared, in_project, table
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.privacy import REGISTRY, REMOVED, Erase


@dataclass(frozen=True)
class Step:
    table: str
    column: str
    action: Erase


def plan(project_id: int | None) -> list[Step]:
    """Row steps in dependency order, then one step per custom table, then mentions."""
    rows: list[Step] = []
    custom: list[Step] = []
    for declaration, _ in declared():
        if project_id is not None and declaration.scope is None:
            continue
        for column, action in declaration.users.items():
            step = Step(declaration.table, column, action)
            if action is not Erase.custom:
                rows.append(step)
            elif all(c.table != declaration.table for c in custom):
                custom.append(step)
    mentions = Step("*", "*", Erase.custom)
    # Mentions before the stored frames, so the frames are rewritten from scrubbed rows.
    ordered = sorted(custom, key=lambda s: s.table == "forum_events")
    split = len([s for s in ordered if s.table != "forum_events"])
    return rows + ordered[:split] + [mentions] + ordered[split:]


async def run_step(db: Database, erasure: Erasure, step: Step, progress: Progress) -> None:
    if step.action is Erase.custom:
        await custom.run(db, erasure, step.table, progress)
        return
    target = table(step.table)
    column = target.c[step.column]
    chosen_by = key(target)
    where = (column == erasure.subject) & in_project(step.table, erasure.project_id)
    while True:
        async with db.transaction() as tx:
            connection = await tx.connection()
            ids = list(
                (
                    await connection.execute(select(chosen_by).where(where).limit(erasure.batch))
                ).scalars()
            )
            if not ids:
                return
            chosen = chosen_by.in_(ids)
            if step.action is Erase.delete_row:
                await connection.execute(delete(target).where(chosen))
            elif step.action is Erase.unlink:
                await connection.execute(update(target).where(chosen).values({column: None}))
            elif step.action is Erase.pseudonymise:
                await connection.execute(
                    update(target).where(chosen).values({column: erasure.placeholder})
                )
            else:
                await _authored(connection, target, step, erasure, ids)
        await progress()


async def _authored(
    connection: AsyncConnection, target: Table, step: Step, erasure: Erasure, ids: list[Any]
) -> None:
    """Blanked to "(removed)", or a deleted tombstone, by the project's ``erase_mode``."""
    values: dict[Any, Any] = {target.c[step.column]: erasure.placeholder}
    marker = REMOVED if erasure.mode == "blank" else ""
    tombstone = "deleted_at" in target.c
    declaration = REGISTRY[step.table]
    for name in declaration.rekey:
        values[target.c[name]] = literal("erased-") + cast(key(target), String)
    for name in declaration.personal:
        if name in declaration.rekey:
            continue
        text = target.c[name]
        values[text] = (
            case((target.c.deleted_at.is_(None), marker), else_="") if tombstone else marker
        )
    if tombstone and erasure.mode == "delete":
        values[target.c.deleted_at] = case(
            (target.c.deleted_at.is_(None), erasure.now), else_=target.c.deleted_at
        )
    await connection.execute(update(target).where(key(target).in_(ids)).values(values))
    await custom.after_authored(connection, step.table, ids)
