"""The menu as each audience sees it, and the pushes that tell each audience of a change.

A push names the change (``pages.page.added``, ``moved``, ``renamed``, ``published``,
``unpublished``, ``visibility``, ``deleted``; ``shown`` and ``hidden`` for an audience that
starts or stops seeing the page) and carries that audience's whole menu after it, so a client
replaces its menu and never has to rebuild the tree from a series of moves; a page an audience
does not see is never named in its stream beyond its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.forums.streams import Change, next_seq, record
from twinspace_rt.pages import audience
from twinspace_rt.pages.audience import AUDIENCES, Audience
from twinspace_rt.storage.page_models import Page

PUSHES = (
    ("pages.page.added", "a page was added"),
    ("pages.page.moved", "a page was moved or reordered"),
    ("pages.page.renamed", "a page was renamed"),
    ("pages.page.published", "a page was published"),
    ("pages.page.unpublished", "a page went back to draft"),
    ("pages.page.visibility", "a page's visibility changed"),
    ("pages.page.deleted", "a page was deleted"),
    ("pages.page.shown", "a page became visible to you"),
    ("pages.page.hidden", "a page is no longer visible to you"),
    ("pages.resync", "the menu stream could not be caught up"),
)


@dataclass
class Tree:
    """Every page of one project."""

    by_id: dict[int, Page]

    def children(self, parent_id: int | None) -> list[Page]:
        found = [p for p in self.by_id.values() if p.parent_id == parent_id]
        return sorted(found, key=lambda p: (p.position, p.id or 0))

    def depth(self, page: Page) -> int:
        return len(audience.lineage(page, self.by_id))

    def height(self, page: Page) -> int:
        below = [self.height(child) for child in self.children(page.id)]
        return 1 + max(below, default=0)

    def ordered(self) -> list[Page]:
        """Pre-order: each page followed by its subpages, as the menu shows them."""
        out: list[Page] = []
        stack = list(reversed(self.children(None)))
        while stack:
            page = stack.pop()
            out.append(page)
            stack.extend(reversed(self.children(page.id)))
        return out


def page_payload(page: Page) -> dict[str, Any]:
    return {
        "id": page.id,
        "parent_id": page.parent_id,
        "position": page.position,
        "title": page.title,
        "state": page.state,
        "visibility": page.visibility,
        "document_id": page.document_id,
    }


def of_audience(tree: Tree, seen_by: Audience) -> list[dict[str, Any]]:
    return [page_payload(p) for p in tree.ordered() if audience.visible(seen_by, p, tree.by_id)]


Snapshot = dict[Audience, list[dict[str, Any]]]


def snapshot(tree: Tree) -> Snapshot:
    return {seen_by: of_audience(tree, seen_by) for seen_by in AUDIENCES}


async def record_changes(
    tx: AsyncSession, project_id: int, tree: Tree, before: Snapshot, page: Page, kind: str
) -> list[Change]:
    """One push in each audience stream whose menu the change altered, in this transaction."""
    changes = []
    for seen_by, old in before.items():
        new = of_audience(tree, seen_by)
        if new == old:
            continue
        was = any(p["id"] == page.id for p in old)
        now = any(p["id"] == page.id for p in new)
        name = kind
        if was != now and kind not in ("added", "deleted"):
            name = "shown" if now else "hidden"
        shown = page_payload(page) if now else {"id": page.id}
        seq = await next_seq(tx, project_id, seen_by.stream)
        changes.append(
            record(tx, project_id, seen_by.stream, seq, f"pages.page.{name}", page=shown, menu=new)
        )
    return changes
