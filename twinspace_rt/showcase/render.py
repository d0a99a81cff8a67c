"""The showcase as plain HTML and CSS, rendered on the server: no script, nothing to run.

What it may hold is decided here, by construction: the chosen pages that are still published
for all members (their bodies through the documents' HTML rendering; of their embeds only the
images a teacher administrator published with them, still approved, as processed ``display``
variants served from the showcase's own address; links into the room are left out),
the chosen journal posts that are still published (the light markup's sanitised HTML and the
attached images published with them, no comments, no likers), the project's name. Pupils
are named by first name or not at all; chat, forums and the member list are never read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Any

from pycrdt import Doc
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from twinspace_rt.documents import store
from twinspace_rt.documents.content import Format, embeds, render
from twinspace_rt.documents.guard import BadUpdate, apply
from twinspace_rt.forums.markup import render as markup
from twinspace_rt.journal.streams import PUBLISHED
from twinspace_rt.pages import audience, tree
from twinspace_rt.pages.embeds import EmbedKind, parse
from twinspace_rt.showcase.choices import PUBLIC, read
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.material_models import Material
from twinspace_rt.storage.models import AccountKind, Project, User
from twinspace_rt.storage.page_models import JournalAttachment, JournalPost, Publishing

CSS = """
body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
header,main{max-width:46rem;margin:0 auto;padding:1rem 1.25rem}
header{border-bottom:1px solid #ddd}h1{font-size:1.8rem;margin:.5rem 0}
nav ol{padding-inline-start:1.25rem}article{background:#fff;border:1px solid #e3e3e3;
border-radius:.5rem;padding:1rem 1.25rem;margin:1rem 0}
.byline{color:#555;font-size:.9rem}img{max-width:100%;height:auto}
"""


@dataclass
class Shown:
    title: str
    html: str
    depth: int = 0
    byline: str = ""


@dataclass
class Showcase:
    project: str
    language: str
    indexable: bool
    pages: list[Shown]
    posts: list[Shown]
    # The images the pages and posts show: the only materials `/p/{slug}/m/{id}` serves.
    images: dict[int, Material]


async def gather(db: Database, publishing: Publishing) -> Showcase | None:
    """None when the project is closed: its showcase goes away with it."""
    async with db.reader() as tx:
        project = await tx.get(Project, publishing.project_id)
        if project is None or project.status == "closed":
            return None
        chosen = await read(tx, publishing)
        pages = await tree.load(tx, publishing.project_id)
        picked = set(chosen.pages)
        shown_pages = [
            (p, pages.depth(p))
            for p in pages.ordered()
            if p.id in picked and audience.visible(PUBLIC, p, pages.by_id)
        ]
        approved = await tx.exec(
            select(Material).where(
                col(Material.id).in_(chosen.materials + chosen.post_images),
                Material.project_id == publishing.project_id,
                Material.status == "approved",
                Material.kind == "image",
            )
        )
        usable = {m.id: m for m in approved if m.id is not None and "display" in m.blobs}
        images: dict[int, Material] = {}
        figure = _figures(publishing.slug or "", usable, images)
        allowed = set(chosen.materials)
        posts = await _posts(tx, chosen.posts, publishing.pupil_names, chosen.post_images, figure)

    def embed(attrs: dict[str, Any]) -> str:
        parsed = parse(attrs)
        if parsed is None or parsed[0] is not EmbedKind.material or int(parsed[1]) not in allowed:
            return ""
        return figure(int(parsed[1]))

    rendered = []
    for page, depth in shown_pages:
        body = render(await _doc(db, page.document_id), "richtext", Format.html, embed)
        rendered.append(Shown(page.title, body, depth - 1))
    return Showcase(
        project.name,
        publishing.languages.split()[0],
        publishing.indexable,
        rendered,
        posts,
        images,
    )


async def embedded(db: Database, project_id: int, page_ids: list[int]) -> list[int]:
    """The materials the chosen pages embed now: what publishing them publishes."""
    async with db.reader() as tx:
        pages = await tree.load(tx, project_id)
    found: list[int] = []
    for page_id in page_ids:
        page = pages.by_id.get(page_id)
        if page is None:
            continue
        for attrs in embeds(await _doc(db, page.document_id)):
            parsed = parse(attrs)
            if parsed is not None and parsed[0] is EmbedKind.material:
                found.append(int(parsed[1]))
    return found


async def _doc(db: Database, document_id: int) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    try:
        apply(doc, await store.state(db, document_id), "the stored state")
    except BadUpdate:
        return Doc()
    return doc


def _figures(
    slug: str, usable: dict[int, Material], shown: dict[int, Material]
) -> Callable[[int], str]:
    """Writes an image the showcase may show (noting it in ``shown``), or nothing. Its alt text
    is its title, never its file name (which may name a pupil)."""

    def figure(material_id: int) -> str:
        material = usable.get(material_id)
        if material is None:
            return ""
        shown[material_id] = material
        alt = escape(material.title or "", quote=True)
        size = f' width="{material.width}" height="{material.height}"' if material.width else ""
        src = f"/p/{escape(slug)}/m/{material_id}"
        return f'<figure><img src="{src}" alt="{alt}"{size} loading="lazy"></figure>'

    return figure


async def _posts(
    tx: AsyncSession,
    ids: list[int],
    pupil_names: str,
    images: list[int],
    figure: Callable[[int], str],
) -> list[Shown]:
    """The chosen posts, with the attached images that were published with them."""
    if not ids:
        return []
    attached: dict[int, list[int]] = {}
    for link in await tx.exec(
        select(JournalAttachment)
        .where(
            col(JournalAttachment.post_id).in_(ids), col(JournalAttachment.material_id).in_(images)
        )
        .order_by(col(JournalAttachment.position))
    ):
        assert link.material_id is not None  # one of `images`
        attached.setdefault(link.post_id, []).append(link.material_id)
    found = await tx.exec(
        select(JournalPost, User)
        .join(User, col(User.id) == col(JournalPost.author_id))
        .where(
            col(JournalPost.id).in_(ids),
            JournalPost.state == PUBLISHED,
            col(JournalPost.deleted_at).is_(None),
        )
        .order_by(col(JournalPost.id).desc())
    )
    return [
        Shown(
            "",
            markup(post.body) + "".join(figure(m) for m in attached.get(post.id or 0, [])),
            byline=_name(user, pupil_names),
        )
        for post, user in found
    ]


def _name(user: User, pupil_names: str) -> str:
    """A pupil by first name only, or not at all; a teacher by the name they chose."""
    if user.kind != AccountKind.pupil:
        return user.display_name
    if pupil_names == "none":
        return ""
    return user.display_name.split()[0] if user.display_name.split() else ""


def html(showcase: Showcase) -> str:
    robots = "index, follow" if showcase.indexable else "noindex, nofollow"
    direction = "rtl" if showcase.language == "ar" else "ltr"
    out = [
        "<!doctype html>",
        f'<html lang="{escape(showcase.language)}" dir="{direction}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="robots" content="{robots}">',
        f"<title>{escape(showcase.project)}</title>",
        '<link rel="stylesheet" href="/showcase.css">',
        "</head>",
        "<body>",
        f"<header><h1>{escape(showcase.project)}</h1>",
    ]
    if showcase.pages:
        out.append("<nav><ol>")
        for index, page in enumerate(showcase.pages):
            indent = "&#8195;" * page.depth
            out.append(f'<li><a href="#page-{index}">{indent}{escape(page.title)}</a></li>')
        out.append("</ol></nav>")
    out.append("</header><main>")
    for index, page in enumerate(showcase.pages):
        level = min(2 + page.depth, 4)
        out.append(
            f'<article id="page-{index}"><h{level}>{escape(page.title)}</h{level}>'
            f"{page.html}</article>"
        )
    for post in showcase.posts:
        byline = f'<p class="byline">{escape(post.byline)}</p>' if post.byline else ""
        out.append(f"<article>{byline}{post.html}</article>")
    out.append("</main></body></html>")
    return "\n".join(out)
