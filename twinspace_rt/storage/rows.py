"""Rows made on first use and marks that only move forward, the same on SQLite and PostgreSQL.

``INSERT … ON CONFLICT`` is spelled by each dialect's own ``insert``; these helpers pick it, so
no feature repeats the choice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel, col, update
from sqlmodel.ext.asyncio.session import AsyncSession


def _insert(tx: AsyncSession, model: type[SQLModel]) -> Any:
    dialect = tx.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


async def insert_missing(
    tx: AsyncSession, model: type[SQLModel], keys: list[str], **values: Any
) -> None:
    """Inserts the row unless one with the same ``keys`` exists: two first uses at once make
    one row, and neither fails."""
    statement = _insert(tx, model).values(**values)
    await tx.exec(statement.on_conflict_do_nothing(index_elements=keys))


async def upsert(
    tx: AsyncSession,
    model: type[SQLModel],
    keys: list[str],
    values: dict[str, Any],
    **key_values: Any,
) -> None:
    """Inserts the row of ``key_values``, or sets ``values`` on the one already there."""
    statement = _insert(tx, model).values(**key_values, **values)
    await tx.exec(statement.on_conflict_do_update(index_elements=keys, set_=values))


async def advance_mark(
    tx: AsyncSession,
    model: type[SQLModel],
    keys: dict[str, Any],
    column: str,
    value: Any,
    **on_insert: Any,
) -> None:
    """Sets ``column`` to ``value`` on the row of ``keys`` (made if missing), unless it already
    holds a later value: a read mark never moves back (another device read further).
    ``on_insert`` fills the other columns of a row made here."""
    await insert_missing(tx, model, list(keys), **keys, **on_insert, **{column: value})
    await tx.exec(
        update(model)
        .where(*(col(getattr(model, name)) == key for name, key in keys.items()))
        .where(col(getattr(model, column)) < value)
        .values({column: value})
    )
