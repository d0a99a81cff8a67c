"""The project's pages over REST: the menu, one page, and the teacher administrators' changes.

Every change stores its menu pushes in its transaction and publishes them after the commit
(like the forums); it also announces a room change, so every node re-checks the sockets open on
page documents (a page back to draft closes its pupils' editors).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.forums import WRITE_ERRORS, path_id, publish_changes
from twinspace_rt.api.http import Endpoint, in_room, read_body, respond, room_changed
from twinspace_rt.api.page_schemas import (
    EmbedOut,
    MenuOut,
    PageCreateIn,
    PageDetailOut,
    PageOut,
    PagePatchIn,
)
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.auth.policy import Action
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.pages import audience, embeds, tree
from twinspace_rt.pages.menu import of_audience, page_payload
from twinspace_rt.storage.document_models import Document

TREE_ERRORS = WRITE_ERRORS + (ErrorCode.tree_invalid,)


async def list_pages(request: Request) -> Response:
    async with in_room(request, Action.page_read) as (tx, _, member):
        found = await tree.load(tx, member.project_id)
    pages = of_audience(found, audience.of(member))
    return respond(MenuOut(pages=[PageOut.model_validate(p) for p in pages]))


async def get_page(request: Request) -> Response:
    async with in_room(request, Action.page_read) as (tx, _, member):
        found = await tree.load(tx, member.project_id)
        page = tree.get(found, member, path_id(request, "page_id"))
        document = await tx.get(Document, page.document_id)
    assert document is not None
    return respond(PageDetailOut.model_validate({**page_payload(page), "document": document.name}))


async def create_page(request: Request) -> Response:
    body = await read_body(request, PageCreateIn)
    async with in_room(request, Action.page_manage) as (tx, _, member):
        page, changes = await tree.create(
            tx, member, body.title, body.parent_id, body.position, body.visibility
        )
        out = PageOut.model_validate(page_payload(page))
    await publish_changes(request, member.project_id, changes)
    return respond(out, 201)


async def update_page(request: Request) -> Response:
    body = await read_body(request, PagePatchIn)
    moves = "parent_id" in body.model_fields_set
    async with in_room(request, Action.page_manage) as (tx, _, member):
        page, changes = await tree.update(
            tx,
            member,
            path_id(request, "page_id"),
            title=body.title,
            parent_id=body.parent_id if moves else tree.UNSET,
            position=body.position,
            state=body.state,
            visibility=body.visibility,
        )
        out = PageOut.model_validate(page_payload(page))
    await publish_changes(request, member.project_id, changes)
    if changes:
        await room_changed(request, member.project_id)
    return respond(out)


async def delete_page(request: Request) -> Response:
    async with in_room(request, Action.page_manage) as (tx, _, member):
        changes = await tree.delete(tx, member, path_id(request, "page_id"))
    await publish_changes(request, member.project_id, changes)
    await room_changed(request, member.project_id)
    return respond(None, 204)


async def check_embed(request: Request) -> Response:
    """What the editor's picker checks before inserting, and a page view resolves to draw."""
    parsed = embeds.parse({"kind": request.path_params["kind"], "ref": request.path_params["ref"]})
    if parsed is None:
        raise AppError(ErrorCode.embed_unavailable, "Not an embed this page can hold.")
    async with in_room(request, Action.page_read) as (tx, _, member):
        found = await embeds.resolve(tx, member, *parsed)
    return respond(EmbedOut.model_validate(found, from_attributes=True))


PAGE = PROJECT + "/pages/{page_id:int}"

ENDPOINTS = [
    Endpoint(
        "GET",
        PROJECT + "/pages",
        list_pages,
        "The menu as the caller sees it: drafts and teachers-only pages only for those allowed.",
        response=MenuOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "POST",
        PROJECT + "/pages",
        create_page,
        "Add a draft page with an empty rich-text body (`page.manage`); three levels at most.",
        body=PageCreateIn,
        response=PageOut,
        status=201,
        errors=TREE_ERRORS,
    ),
    Endpoint(
        "GET",
        PROJECT + "/pages/embeds/{kind}/{ref}",
        check_embed,
        "Resolve an embed (`material`, `document`, `thread`, `message` and its id) for the "
        "caller: only in this project and only what they may see, else `embed_unavailable`.",
        response=EmbedOut,
        errors=ROOM_ERRORS + (ErrorCode.embed_unavailable,),
    ),
    Endpoint(
        "GET",
        PAGE,
        get_page,
        "One page, with the name of its document for the y-websocket endpoint.",
        response=PageDetailOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "PATCH",
        PAGE,
        update_page,
        "Move, reorder, rename, publish or hide a page (`page.manage`).",
        body=PagePatchIn,
        response=PageOut,
        errors=TREE_ERRORS,
    ),
    Endpoint(
        "DELETE",
        PAGE,
        delete_page,
        "Delete a page without subpages, and its document (`page.manage`).",
        status=204,
        errors=WRITE_ERRORS + (ErrorCode.conflict,),
    ),
]
