"""The room's home screen: what is new for me in chat, the forums, the bulletin, the journal,
the pages, the documents and the materials; and the read marks of a page, of a document and of
the materials."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.forum_schemas import (
    ActivityOut,
    DocumentNewOut,
    MaterialNewOut,
    MaterialsNewOut,
    ThreadUnreadOut,
)
from twinspace_rt.api.forums import path_id
from twinspace_rt.api.http import Endpoint, in_room, respond
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.auth.policy import Action, can
from twinspace_rt.chat import channels
from twinspace_rt.chat.reading import unread_counts
from twinspace_rt.documents import catalog
from twinspace_rt.documents import reading as document_reading
from twinspace_rt.forums import reading
from twinspace_rt.journal import reading as journal_reading
from twinspace_rt.materials import reading as material_reading
from twinspace_rt.pages import reading as page_reading


async def activity(request: Request) -> Response:
    """Each part only where the member may read it; a pupil's `bulletin` is null."""
    async with in_room(request) as (tx, _, member):
        chat = {}
        if can(member, Action.chat_read):
            chat = await unread_counts(tx, member, await channels.readable(tx, member))
        threads = []
        if can(member, Action.forum_read):
            threads = await reading.unread_threads(tx, member)
        bulletin = None
        if can(member, Action.bulletin_read):
            bulletin = await reading.unread_bulletin(tx, member)
        journal = None
        if can(member, Action.journal_read):
            journal = await journal_reading.unread(tx, member)
        pages = None
        if can(member, Action.page_read):
            pages = await page_reading.unread(tx, member)
        documents = None
        if can(member, Action.doc_read):
            documents = [
                DocumentNewOut(id=d.id or 0, title=d.title)
                for d in await document_reading.unread(tx, member)
            ]
        materials = None
        if can(member, Action.materials_read):
            count, newest = await material_reading.unread(tx, member)
            materials = MaterialsNewOut(
                count=count,
                newest=[
                    MaterialNewOut(id=m.id or 0, title=m.title, filename=m.filename, media=m.kind)
                    for m in newest
                ],
            )
    return respond(
        ActivityOut(
            chat=chat,
            threads=[ThreadUnreadOut.model_validate(t) for t in threads],
            forum_unread=sum(t["unread"] for t in threads),
            bulletin=bulletin,
            journal=journal,
            pages=pages,
            documents=documents,
            materials=materials,
        )
    )


class ReadOut(BaseModel):
    read_at: datetime


async def page_read(request: Request) -> Response:
    async with in_room(request, Action.page_read) as (tx, _, member):
        read_at = await page_reading.mark(tx, member, path_id(request, "page_id"))
    return respond(ReadOut(read_at=read_at))


async def document_read(request: Request) -> Response:
    async with in_room(request, Action.doc_read) as (tx, _, member):
        document = await catalog.get(tx, member, path_id(request, "document_id"))
        assert document.id is not None
        read_at = await document_reading.mark(tx, member, document.id)
    return respond(ReadOut(read_at=read_at))


async def materials_read(request: Request) -> Response:
    async with in_room(request, Action.materials_read) as (tx, _, member):
        read_at = await material_reading.mark(tx, member)
    return respond(ReadOut(read_at=read_at))


ENDPOINTS = [
    Endpoint(
        "GET",
        PROJECT + "/activity",
        activity,
        "Unread counts since my last visit: per chat channel, per forum thread, bulletin, "
        "journal; the pages, documents and materials new to me.",
        response=ActivityOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "POST",
        PROJECT + "/pages/{page_id:int}/read",
        page_read,
        "I have opened page `page_id`: its changes so far are no longer new to me.",
        response=ReadOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "POST",
        PROJECT + "/docs/{document_id:int}/read",
        document_read,
        "I have opened document `document_id`: its changes so far are no longer new to me.",
        response=ReadOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "POST",
        PROJECT + "/materials/read",
        materials_read,
        "I have seen the materials added so far: they are no longer new to me.",
        response=ReadOut,
        errors=ROOM_ERRORS,
    ),
]
