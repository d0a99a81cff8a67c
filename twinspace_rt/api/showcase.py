"""Publishing choices over REST, and the public showcase itself (`/p/{slug}`, no sign-in).

The showcase is HTML and CSS rendered on the server from what a teacher administrator chose
(`showcase/`); nothing in the room is reachable from it. It is cacheable for
`showcase_cache_seconds`, and `noindex` unless the teacher opted in.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from twinspace_rt.api.forums import WRITE_ERRORS
from twinspace_rt.api.http import Endpoint, in_room, read_body, respond, services
from twinspace_rt.api.page_schemas import SLUG_PATTERN, PublishingIn, PublishingOut
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.auth.policy import Action
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.journal import settings
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
    async with in_room(request, Action.showcase_manage) as (tx, _, member):
        chosen, _ = await choices.change(tx, member, body.model_dump(exclude_unset=True))
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
        "/showcase.css",
        stylesheet,
        "The showcase's stylesheet.",
        public=True,
    ),
]
