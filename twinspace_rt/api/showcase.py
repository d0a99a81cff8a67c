"""Publishing choices over REST, and the public showcase itself (`/p/{slug}`, no sign-in).

The showcase is HTML and CSS rendered on the server from what a teacher administrator chose
(`showcase/`); nothing in the room is reachable from it. It is cacheable for
`showcase_cache_seconds`, and `noindex` unless the teacher opted in.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse

from twinspace_rt.api.forums import WRITE_ERRORS
from twinspace_rt.api.http import Endpoint, in_room, read_body, respond, services
from twinspace_rt.api.page_schemas import SLUG_PATTERN, PublishingIn, PublishingOut
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.auth.policy import Action
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.journal import settings
from twinspace_rt.materials.blobs import content_key
from twinspace_rt.showcase import choices, render
from twinspace_rt.showcase.choices import Choices

_SLUG = re.compile(SLUG_PATTERN)


def _out(chosen: Choices) -> PublishingOut:
    publishing = chosen.publishing
    on = publishing.showcase_on and publishing.slug is not None
    return PublishingOut(
        pupil_posts=publishing.pupil_posts,
        slug=publishing.slug,
        showcase_on=publishing.showcase_on,
        indexable=publishing.indexable,
        pupil_names=publishing.pupil_names,
        languages=publishing.languages.split(),
        pages=chosen.pages,
        posts=chosen.posts,
        url=f"/p/{publishing.slug}" if on else None,
    )


async def get_publishing(request: Request) -> Response:
    async with in_room(request) as (tx, _, member):
        publishing = await settings.of_project(tx, member.project_id)
        chosen = await choices.read(tx, publishing)
    return respond(_out(chosen))


async def update_publishing(request: Request) -> Response:
    body = await read_body(request, PublishingIn)
    images = None
    if body.pages:
        # The pages' bodies are read outside the write, and only for those who may publish.
        async with in_room(request, Action.showcase_manage) as (_, _, member):
            pass
        images = await render.embedded(services(request).db, member.project_id, body.pages)
    async with in_room(request, Action.showcase_manage) as (tx, _, member):
        chosen, _ = await choices.change(tx, member, body.model_dump(exclude_unset=True), images)
    return respond(_out(chosen))


async def unpublish(request: Request) -> Response:
    async with in_room(request, Action.showcase_manage) as (tx, _, member):
        await choices.unpublish(tx, member)
    return respond(None, 204)


async def showcase(request: Request) -> Response:
    slug = request.path_params["slug"]
    db = services(request).db
    async with db.reader() as tx:
        publishing = await choices.by_slug(tx, slug) if _SLUG.match(slug) else None
    shown = await render.gather(db, publishing) if publishing is not None else None
    if shown is None:
        raise AppError(ErrorCode.not_found, "No showcase at this address.")
    seconds = services(request).settings.showcase_cache_seconds
    headers = {"Cache-Control": f"public, max-age={seconds}"}
    if not shown.indexable:
        headers["X-Robots-Tag"] = "noindex, nofollow"
    return HTMLResponse(render.html(shown), headers=headers)


async def image(request: Request) -> Response:
    """An image a showcase page shows: its processed ``display`` variant (metadata stripped
    when it was uploaded), and nothing the showcase does not show right now."""
    slug = request.path_params["slug"]
    node = services(request)
    async with node.db.reader() as tx:
        publishing = await choices.by_slug(tx, slug) if _SLUG.match(slug) else None
    shown = await render.gather(node.db, publishing) if publishing is not None else None
    material = shown.images.get(int(request.path_params["material_id"])) if shown else None
    if material is None:
        raise AppError(ErrorCode.not_found, "No such image in this showcase.")
    key = content_key(material.project_id, material.blobs["display"])
    size = await node.materials.store.size(key)
    if size is None:
        raise AppError(ErrorCode.not_found, "The image's bytes are gone.")
    etag = f'"{material.blobs["display"]}"'
    seconds = node.settings.showcase_cache_seconds
    headers = {"ETag": etag, "Cache-Control": f"public, max-age={seconds}"}
    if request.headers.get("If-None-Match") == etag:
        return Response(status_code=304, headers=headers)
    mime = "image/png" if material.mime == "image/png" else "image/jpeg"
    headers["Content-Length"] = str(size)
    return StreamingResponse(node.materials.store.read(key), media_type=mime, headers=headers)


async def stylesheet(request: Request) -> Response:
    return Response(
        render.CSS,
        media_type="text/css; charset=utf-8",
        headers={"Cache-Control": "public, max-age=86400"},
    )


ENDPOINTS = [
    Endpoint(
        "GET",
        PROJECT + "/publishing",
        get_publishing,
        "The journal's pupil setting and the showcase's choices.",
        response=PublishingOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "PATCH",
        PROJECT + "/publishing",
        update_publishing,
        "Change them (`showcase.manage`): only published pages and posts; audited.",
        body=PublishingIn,
        response=PublishingOut,
        errors=WRITE_ERRORS + (ErrorCode.conflict, ErrorCode.not_published),
    ),
    Endpoint(
        "DELETE",
        PROJECT + "/showcase",
        unpublish,
        "Unpublish the whole showcase at once (`showcase.manage`); audited.",
        status=204,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "GET",
        "/p/{slug}",
        showcase,
        "The public showcase: server-rendered HTML, no script, `noindex` unless opted in.",
        public=True,
        errors=(ErrorCode.not_found,),
    ),
    Endpoint(
        "GET",
        "/p/{slug}/m/{material_id:int}",
        image,
        "An image the public showcase shows: the processed `display` variant of an approved "
        "image a teacher administrator published with a page; nothing else.",
        public=True,
        errors=(ErrorCode.not_found,),
    ),
    Endpoint(
        "GET",
        "/showcase.css",
        stylesheet,
        "The showcase's stylesheet.",
        public=True,
    ),
]
