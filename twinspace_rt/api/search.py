"""Room search over REST: chat, forum and bulletin content the caller may read."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.forum_schemas import SearchHitOut, SearchOut
from twinspace_rt.api.http import Endpoint, in_room, query_int, respond, services
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.search import fulltext


async def search(request: Request) -> Response:
    query = request.query_params.get("q")
    if query is None:
        raise AppError(ErrorCode.validation_failed, "Send the words to find as `q`.")
    limit = query_int(request, "limit", 20, 1, 50)
    assert limit is not None
    settings = services(request).settings
    async with in_room(request) as (tx, _, member):
        page = await fulltext.search(
            tx, settings, member, query, request.query_params.get("cursor"), limit
        )
    return respond(
        SearchOut(
            hits=[SearchHitOut.model_validate(h) for h in page.hits], next_cursor=page.next_cursor
        )
    )


ENDPOINTS = [
    Endpoint(
        "GET",
        PROJECT + "/search",
        search,
        "Full-text search, newest first, with highlighted snippets.",
        response=SearchOut,
        errors=ROOM_ERRORS + (ErrorCode.validation_failed, ErrorCode.search_timeout),
        query={
            "q": "words to find (1-200 characters; operators and quotes are ignored; words "
            "shorter than `TWINSPACE_SEARCH_PREFIX_MIN_CHARS` match whole words only)",
            "cursor": "`next_cursor` of the previous page",
            "limit": "1-50, default 20",
        },
    ),
]
