"""Materials attached to journal posts, forum posts and chat messages: checked when attached,
shown while they stay approved, and "unavailable" in their place once they no longer are.

A post or message may carry up to `ATTACHMENTS_MAX` of the project's materials, in order. Only
approved materials of the author's project, which they may read, can be attached (another
project's, an unknown one, or a pupil's upload still in review is `not_found`), so nobody is
ever shown a material they could not open themselves. The bytes are fetched through the
materials' signed links; a payload carries only each material's id, kind and title.

Each owner keeps its attachments in a table of its own (`Links`), so that the database removes
them with their post or message. A material rejected or removed later (removal sets the row's
key to null) stays in its place as unavailable: no kind, no title, nothing to fetch. This
module sits below the features that share it, which the layers keep apart from one another.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

from sqlalchemy import Table, delete, insert
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.storage.material_models import Material

ATTACHMENTS_MAX = 10


class Attached(TypedDict):
    """One attachment as members see it; ``available`` false: no kind or title to show."""

    id: int | None
    kind: str | None
    title: str | None
    available: bool


@dataclass(frozen=True)
class Links:
    """The table that links one kind of owner to its materials, by its ``owner`` column."""

    model: type[SQLModel]
    owner: str

    @property
    def table(self) -> Table:
        table: Table = self.model.__table__  # type: ignore[attr-defined]
        return table


def shown(material: Material) -> Attached:
    return {
        "id": material.id,
        "kind": material.kind,
        "title": material.title or material.filename,
        "available": True,
    }


async def check(tx: AsyncSession, member: Member, material_ids: list[int]) -> list[Attached]:
    """The materials, without repeats, if each is approved, in the member's project and theirs
    to read; refused whole otherwise."""
    wanted = list(dict.fromkeys(material_ids))
    if not wanted:
        return []
    if len(wanted) > ATTACHMENTS_MAX:
        raise AppError(
            ErrorCode.validation_failed, f"At most {ATTACHMENTS_MAX} materials per post."
        )
    require(member, Action.materials_read)
    attached = []
    for material_id in wanted:
        material = await tx.get(Material, material_id)
        if (
            material is None
            or material.project_id != member.project_id
            or material.status != "approved"
        ):
            raise AppError(ErrorCode.not_found, f"No approved material {material_id} here.")
        attached.append(shown(material))
    return attached


def rows(links: Links, owner_id: int, attached: list[Attached]) -> list[dict[str, Any]]:
    """The link rows of one owner, for an insert (chat's writer inserts them in its batch)."""
    return [
        {links.owner: owner_id, "material_id": a["id"], "position": position}
        for position, a in enumerate(attached)
    ]


async def replace(tx: AsyncSession, links: Links, owner_id: int, attached: list[Attached]) -> None:
    table = links.table
    await tx.exec(delete(table).where(table.c[links.owner] == owner_id))
    if attached:
        await tx.exec(insert(table).values(rows(links, owner_id, attached)))
    await tx.flush()


async def of(tx: AsyncSession, links: Links, owner_ids: list[int]) -> dict[int, list[Attached]]:
    """Each owner's attachments in order, those no longer approved as unavailable."""
    if not owner_ids:
        return {}
    table = links.table
    found = await tx.exec(
        select(table.c[links.owner], table.c.material_id, Material)
        .outerjoin(Material, col(Material.id) == table.c.material_id)
        .where(table.c[links.owner].in_(owner_ids))
        .order_by(table.c[links.owner], table.c.position)
    )
    attached: dict[int, list[Attached]] = {}
    for owner_id, material_id, material in found:
        if material is not None and material.status == "approved":
            entry = shown(material)
        else:
            entry = {"id": material_id, "kind": None, "title": None, "available": False}
        attached.setdefault(owner_id, []).append(entry)
    return attached
