"""Who sees which page: the four audiences of a project's menu, each a stream of its own.

A page is seen by a member when its state and visibility allow (a draft needs
``page.read_drafts``, a teachers-only page ``page.read_staff``) and so is every page above it.
Every reader of a stream is sent every change of it, so members who see different menus need
different streams: one per pair of those two rights.
"""

from __future__ import annotations

from dataclasses import dataclass

from twinspace_rt.auth.policy import Action, Member, can
from twinspace_rt.storage.page_models import Page

DRAFT = "draft"
PUBLISHED = "published"
ALL = "all"
TEACHERS = "teachers"


@dataclass(frozen=True, slots=True)
class Audience:
    drafts: bool
    staff: bool

    @property
    def stream(self) -> str:
        """The stream name (``forum_streams.stream``): ``pages``, ``pages.d``, ``pages.s``…"""
        flags = ("d" if self.drafts else "") + ("s" if self.staff else "")
        return f"pages.{flags}" if flags else "pages"

    def sees(self, page: Page) -> bool:
        return (page.state == PUBLISHED or self.drafts) and (page.visibility == ALL or self.staff)


AUDIENCES = tuple(Audience(d, s) for d in (False, True) for s in (False, True))


def of(member: Member) -> Audience:
    return Audience(can(member, Action.page_read_drafts), can(member, Action.page_read_staff))


def lineage(page: Page, by_id: dict[int, Page]) -> list[Page]:
    """The page and every page above it (the tree has no cycles: `tree.py` refuses them)."""
    chain = [page]
    while chain[-1].parent_id is not None:
        chain.append(by_id[chain[-1].parent_id])
    return chain


def visible(audience: Audience, page: Page, by_id: dict[int, Page]) -> bool:
    return all(audience.sees(p) for p in lineage(page, by_id))


def document_requires(page: Page, by_id: dict[int, Page]) -> str:
    """What the page's document asks beyond `doc.read` (`documents/catalog.py` checks it):
    the same rights as seeing the page in the menu."""
    chain = lineage(page, by_id)
    needed = []
    if any(p.state != PUBLISHED for p in chain):
        needed.append(Action.page_read_drafts.value)
    if any(p.visibility != ALL for p in chain):
        needed.append(Action.page_read_staff.value)
    return " ".join(needed)
