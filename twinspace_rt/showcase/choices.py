"""A project's publishing choices: the pupils' journal setting and what the showcase shows.

Only a teacher administrator (``showcase.manage``) changes them; every publish and unpublish
is audited in the same transaction. A page is shown only if it and every page above it are
published for all members; a journal post only if it is a published, undeleted post (not a
comment). Anything else is refused whole (`not_published`), so nothing is half-chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.auth.policy import Action, Member, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.journal import settings
from twinspace_rt.journal.streams import PUBLISHED
from twinspace_rt.pages import audience, tree
from twinspace_rt.projects import audit
from twinspace_rt.storage.material_models import Material
from twinspace_rt.storage.page_models import (
    JournalAttachment,
    JournalPost,
    Publishing,
    ShowcaseItem,
)

PUBLIC = audience.Audience(drafts=False, staff=False)


@dataclass
class Choices:
    publishing: Publishing
    pages: list[int] = field(default_factory=list)
    posts: list[int] = field(default_factory=list)
    # The approved images embedded in the chosen pages when they were chosen: a page edited
    # later shows no new image until a teacher administrator publishes it again.
    materials: list[int] = field(default_factory=list)
    # The same for the approved images attached to the chosen posts.
    post_images: list[int] = field(default_factory=list)


async def read(tx: AsyncSession, publishing: Publishing) -> Choices:
    found = await tx.exec(
        select(ShowcaseItem)
        .where(ShowcaseItem.project_id == publishing.project_id)
        .order_by(col(ShowcaseItem.id))
    )
    chosen = Choices(publishing)
    lists = {
        "page": chosen.pages,
        "post": chosen.posts,
        "material": chosen.materials,
        "post_image": chosen.post_images,
    }
    for item in found:
        lists[item.kind].append(item.target_id)
    return chosen


async def change(
    tx: AsyncSession, member: Member, wanted: dict[str, object], images: list[int] | None = None
) -> tuple[Choices, bool]:
    """Applies the fields given; answers whether what the public sees may have changed.
    ``images`` are the materials embedded in the chosen pages (`render.embedded`), read
    before this transaction: only the approved images among them are kept."""
    require(member, Action.showcase_manage)
    publishing = await settings.of_project(tx, member.project_id, lock=True)
    for name in ("pupil_posts", "indexable", "pupil_names", "slug"):
        if name in wanted and wanted[name] is not None:
            setattr(publishing, name, wanted[name])
    if wanted.get("languages") is not None:
        publishing.languages = " ".join(wanted["languages"])  # type: ignore[arg-type]
    if wanted.get("pages") is not None:
        await _choose_pages(tx, member, list(wanted["pages"]))  # type: ignore[call-overload]
        await _replace(tx, member.project_id, "material", await _images(tx, member, images or []))
    if wanted.get("posts") is not None:
        post_ids = list(wanted["posts"])  # type: ignore[call-overload]
        await _choose_posts(tx, member, post_ids)
        attached = await tx.exec(
            select(JournalAttachment.material_id).where(
                col(JournalAttachment.post_id).in_(post_ids)
            )
        )
        kept = [m for m in attached if m is not None]  # None: a removed material
        await _replace(tx, member.project_id, "post_image", await _images(tx, member, kept))
    on = wanted.get("showcase_on")
    if on is not None and on != publishing.showcase_on:
        if on and publishing.slug is None:
            raise AppError(ErrorCode.validation_failed, "Choose the showcase's `slug` first.")
        publishing.showcase_on = bool(on)
    tx.add(publishing)
    try:
        async with tx.begin_nested():
            await tx.flush()
    except IntegrityError as exc:
        raise AppError(ErrorCode.conflict, "That address is taken by another project.") from exc
    chosen = await read(tx, publishing)
    public = {k: v for k, v in wanted.items() if k != "pupil_posts" and v is not None}
    if public:
        action = "showcase.publish" if publishing.showcase_on else "showcase.update"
        if on is False:
            action = "showcase.unpublish"
        audit.record(
            tx,
            member,
            action,
            slug=publishing.slug,
            pages=chosen.pages,
            posts=chosen.posts,
            indexable=publishing.indexable,
            pupil_names=publishing.pupil_names,
        )
    if "pupil_posts" in wanted and wanted["pupil_posts"] is not None:
        audit.record(tx, member, "journal.pupil_posts", mode=publishing.pupil_posts)
    return chosen, bool(public)


async def unpublish(tx: AsyncSession, member: Member) -> None:
    """One click: the showcase goes offline and nothing stays chosen."""
    require(member, Action.showcase_manage)
    publishing = await settings.of_project(tx, member.project_id, lock=True)
    publishing.showcase_on = False
    tx.add(publishing)
    await tx.exec(delete(ShowcaseItem).where(col(ShowcaseItem.project_id) == member.project_id))
    audit.record(tx, member, "showcase.unpublish", slug=publishing.slug)


async def _choose_pages(tx: AsyncSession, member: Member, page_ids: list[int]) -> None:
    pages = await tree.load(tx, member.project_id)
    for page_id in page_ids:
        page = tree.get(pages, member, page_id)
        if not audience.visible(PUBLIC, page, pages.by_id):
            raise AppError(ErrorCode.not_published, f"Page {page_id} is not published for all.")
    await _replace(tx, member.project_id, "page", page_ids)


async def _images(tx: AsyncSession, member: Member, material_ids: list[int]) -> list[int]:
    found = await tx.exec(
        select(Material).where(
            col(Material.id).in_(material_ids),
            Material.project_id == member.project_id,
            Material.status == "approved",
            Material.kind == "image",
        )
    )
    return sorted(m.id for m in found if m.id is not None and "display" in m.blobs)


async def _choose_posts(tx: AsyncSession, member: Member, post_ids: list[int]) -> None:
    for post_id in post_ids:
        post = await tx.get(JournalPost, post_id)
        if post is None or post.project_id != member.project_id:
            raise AppError(ErrorCode.not_found, f"No journal post {post_id} in this project.")
        if post.state != PUBLISHED or post.deleted_at is not None or post.parent_id is not None:
            raise AppError(ErrorCode.not_published, f"Journal post {post_id} is not published.")
    await _replace(tx, member.project_id, "post", post_ids)


async def _replace(tx: AsyncSession, project_id: int, kind: str, ids: list[int]) -> None:
    await tx.exec(
        delete(ShowcaseItem).where(
            col(ShowcaseItem.project_id) == project_id, col(ShowcaseItem.kind) == kind
        )
    )
    for target_id in dict.fromkeys(ids):
        tx.add(ShowcaseItem(project_id=project_id, kind=kind, target_id=target_id))
    await tx.flush()


async def by_slug(tx: AsyncSession, slug: str) -> Publishing | None:
    found = await tx.exec(
        select(Publishing).where(Publishing.slug == slug, col(Publishing.showcase_on))
    )
    return found.first()
