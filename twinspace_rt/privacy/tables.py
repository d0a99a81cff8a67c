"""The declarations as SQL: every declared table, and how a row reaches its project."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    String,
    Table,
    Text,
    TypeDecorator,
    delete,
    select,
    true,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel

# Imported for their tables and declarations: the metadata and the registry are complete only
# once every models module is loaded (a new feature's models module is added here too).
import twinspace_rt.storage.chat_models  # noqa: F401
import twinspace_rt.storage.document_models  # noqa: F401
import twinspace_rt.storage.forum_models  # noqa: F401
import twinspace_rt.storage.login_models  # noqa: F401
import twinspace_rt.storage.material_models  # noqa: F401
import twinspace_rt.storage.models  # noqa: F401
import twinspace_rt.storage.page_models  # noqa: F401
import twinspace_rt.storage.privacy_models  # noqa: F401
import twinspace_rt.storage.search_models  # noqa: F401
import twinspace_rt.storage.video_models  # noqa: F401
from twinspace_rt.storage.privacy import REGISTRY, TablePrivacy


def table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def declared() -> list[tuple[TablePrivacy, Table]]:
    """In the metadata's dependency order (parents first)."""
    return [(REGISTRY[t.name], t) for t in SQLModel.metadata.sorted_tables if t.name in REGISTRY]


def in_project(name: str, project_id: int | None) -> ColumnElement[bool]:
    """The rows of ``name`` that belong to ``project_id`` (every row when it is None)."""
    if project_id is None:
        return true()
    scope = REGISTRY[name].scope
    target = table(name)
    if scope is None:
        raise ValueError(f"{name} belongs to no project")
    if ">" not in scope:
        return target.c[scope] == project_id
    column, parent = scope.split(">", 1)
    parents = select(table(parent).c.id).where(in_project(parent, project_id))
    return target.c[column].in_(parents.scalar_subquery())


def textual(column: Column[Any]) -> bool:
    """Text or JSON, seen through type decorators (SQLModel's ``str`` fields are AutoString)."""
    kind = column.type
    if isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return isinstance(kind, String | Text | JSON)


async def delete_rows(connection: AsyncConnection, target: Table, ids: list[Any]) -> int:
    """Deletes rows and what depends on them: a nullable reference (or one to the same table)
    is cut, a required one takes its row along, following the schema's foreign keys."""
    pk = next(iter(target.primary_key.columns))
    for other in SQLModel.metadata.sorted_tables:
        for fk in other.foreign_keys:
            if fk.column is not pk:
                continue
            column = fk.parent
            if column.nullable or other is target:
                await connection.execute(
                    update(other).where(column.in_(ids)).values({column: None})
                )
            else:
                children = list(
                    (
                        await connection.execute(
                            select(next(iter(other.primary_key.columns))).where(column.in_(ids))
                        )
                    ).scalars()
                )
                if children:
                    await delete_rows(connection, other, children)
    result = await connection.execute(delete(target).where(pk.in_(ids)))
    return int(result.rowcount)
