"""The page tree of a project: create, move, reorder, rename, publish, hide, delete.

The whole tree of a project is read at once (a menu is tens of pages) under a lock on the
project's row, so two teacher administrators moving pages at the same moment are serialised
and cannot build a cycle between them. Every change records its menu pushes (`menu.py`) in
the same transaction, and re-derives what each page's document asks of its readers.
"""

from __future__ import annotations

import secrets

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.documents import catalog
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.forums.streams import Change
from twinspace_rt.pages import audience, menu
from twinspace_rt.pages.menu import Tree
from twinspace_rt.projects import audit
from twinspace_rt.storage.document_models import Document
from twinspace_rt.storage.models import Project
from twinspace_rt.storage.page_models import Page, ShowcaseItem

MAX_DEPTH = 3
UNSET = object()


async def load(tx: AsyncSession, project_id: int, lock: bool = False) -> Tree:
    if lock:
        await tx.get(Project, project_id, with_for_update=True)
    found = await tx.exec(select(Page).where(Page.project_id == project_id))
    return Tree({p.id: p for p in found if p.id is not None})


def get(tree: Tree, member: Member, page_id: int) -> Page:
    """A page the member may see; another project's page, or a hidden one, does not exist."""
    page = tree.by_id.get(page_id)
    if page is None or not audience.visible(audience.of(member), page, tree.by_id):
        raise AppError(ErrorCode.not_found, f"No page {page_id} in this project.")
    return page


async def create(
    tx: AsyncSession,
    member: Member,
    title: str,
    parent_id: int | None,
    position: int | None,
    visibility: str,
) -> tuple[Page, list[Change]]:
    require(member, Action.page_manage)
    tree = await load(tx, member.project_id, lock=True)
    before = menu.snapshot(tree)
    if parent_id is not None and tree.depth(get(tree, member, parent_id)) >= MAX_DEPTH:
        raise AppError(ErrorCode.tree_invalid, f"Pages nest at most {MAX_DEPTH} levels deep.")
    name = f"page-{secrets.token_hex(8)}"
    document = await catalog.create(tx, member, name, title, "richtext", owner="page")
    assert document.id is not None
    page = Page(
        project_id=member.project_id,
        parent_id=parent_id,
        title=title,
        document_id=document.id,
        visibility=visibility,
        created_by=member.user_id,
    )
    tx.add(page)
    await tx.flush()
    assert page.id is not None
    tree.by_id[page.id] = page
    _place(tree, page, parent_id, position)
    audit.record(tx, member, "page.create", page_id=page.id, title=title)
    return page, await _settle(tx, member, tree, before, page, "added")


async def update(
    tx: AsyncSession,
    member: Member,
    page_id: int,
    *,
    title: str | None = None,
    parent_id: int | None | object = UNSET,
    position: int | None = None,
    state: str | None = None,
    visibility: str | None = None,
) -> tuple[Page, list[Change]]:
    """One change at a time is what a menu push names; several fields at once take the first
    of moved, renamed, published/unpublished, visibility as its name."""
    require(member, Action.page_manage)
    tree = await load(tx, member.project_id, lock=True)
    page = get(tree, member, page_id)
    before = menu.snapshot(tree)
    kinds: list[str] = []
    if parent_id is not UNSET or position is not None:
        target = page.parent_id if parent_id is UNSET else parent_id
        assert target is None or isinstance(target, int)
        _check_move(tree, member, page, target)
        _place(tree, page, target, position)
        kinds.append("moved")
    if title is not None and title != page.title:
        audit.record(tx, member, "page.rename", page_id=page.id, title=title, was=page.title)
        page.title = title
        kinds.append("renamed")
    if state is not None and state != page.state:
        page.state = state
        kinds.append("published" if state == audience.PUBLISHED else "unpublished")
        audit.record(tx, member, f"page.{kinds[-1]}", page_id=page.id)
    if visibility is not None and visibility != page.visibility:
        page.visibility = visibility
        kinds.append("visibility")
        audit.record(tx, member, "page.visibility", page_id=page.id, visibility=visibility)
    if not kinds:
        return page, []
    return page, await _settle(tx, member, tree, before, page, kinds[0])


async def delete(tx: AsyncSession, member: Member, page_id: int) -> list[Change]:
    """A page with subpages is not deleted: they would lose their place in the menu."""
    require(member, Action.page_manage)
    tree = await load(tx, member.project_id, lock=True)
    page = get(tree, member, page_id)
    if tree.children(page.id):
        raise AppError(ErrorCode.conflict, "Move or delete the page's subpages first.")
    before = menu.snapshot(tree)
    document = await tx.get(Document, page.document_id)
    assert document is not None and page.id is not None
    await catalog.delete(tx, member, document, by_owner=True)
    found = await tx.exec(
        select(ShowcaseItem).where(ShowcaseItem.kind == "page", ShowcaseItem.target_id == page.id)
    )
    for item in found:
        await tx.delete(item)
    del tree.by_id[page.id]
    await tx.delete(page)
    siblings = tree.children(page.parent_id)
    _renumber(tx, siblings)
    audit.record(tx, member, "page.delete", page_id=page.id, title=page.title)
    await tx.flush()
    return await menu.record_changes(tx, member.project_id, tree, before, page, "deleted")


def _check_move(tree: Tree, member: Member, page: Page, parent_id: int | None) -> None:
    if parent_id is None:
        return
    parent = get(tree, member, parent_id)
    if page in audience.lineage(parent, tree.by_id):
        raise AppError(ErrorCode.tree_invalid, "A page cannot move under itself or a subpage.")
    if tree.depth(parent) + tree.height(page) > MAX_DEPTH:
        raise AppError(ErrorCode.tree_invalid, f"Pages nest at most {MAX_DEPTH} levels deep.")


def _place(tree: Tree, page: Page, parent_id: int | None, position: int | None) -> None:
    """Puts the page at ``position`` among its new siblings (the end when None)."""
    if parent_id != page.parent_id:
        for index, sibling in enumerate(p for p in tree.children(page.parent_id) if p is not page):
            sibling.position = index
    page.parent_id = parent_id
    siblings = [p for p in tree.children(parent_id) if p is not page]
    at = len(siblings) if position is None else min(position, len(siblings))
    siblings.insert(at, page)
    for index, sibling in enumerate(siblings):
        sibling.position = index


def _renumber(tx: AsyncSession, siblings: list[Page]) -> None:
    for index, sibling in enumerate(siblings):
        sibling.position = index
        tx.add(sibling)


async def _settle(
    tx: AsyncSession, member: Member, tree: Tree, before: menu.Snapshot, page: Page, kind: str
) -> list[Change]:
    """Stores the tree, re-derives each page document's requirements, records the pushes."""
    tx.add_all(list(tree.by_id.values()))
    ids = [p.document_id for p in tree.by_id.values()]
    documents = await tx.exec(select(Document).where(col(Document.id).in_(ids)))
    requires = {
        p.document_id: audience.document_requires(p, tree.by_id) for p in tree.by_id.values()
    }
    for document in documents:
        wanted = requires[document.id or 0]
        if document.read_requires != wanted or document.edit_requires != Action.page_edit.value:
            document.read_requires = wanted
            document.edit_requires = Action.page_edit.value
            tx.add(document)
    await tx.flush()
    return await menu.record_changes(tx, member.project_id, tree, before, page, kind)
