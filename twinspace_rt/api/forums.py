"""Forums, threads and replies over REST (posts and the bulletin: `api/posts.py`).

Every write stores its change with the stream's next seq in the request's transaction, and
publishes it on the project's topic after the commit (`hub/events.py`), so sockets subscribed
with `forum.subscribe` see it live and a resuming one replays it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.forum_schemas import (
    ID_MAX,
    ForumCreateIn,
    ForumListOut,
    ForumOut,
    ForumPatchIn,
    PostCreateIn,
    PostOut,
    PostPageOut,
    ReadIn,
    ReadOut,
    ThreadCreatedOut,
    ThreadCreateIn,
    ThreadOut,
    ThreadPageOut,
    ThreadPatchIn,
)
from twinspace_rt.api.http import Endpoint, in_room, query_int, read_body, respond, services
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.auth.policy import Action
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.forums import boards, posts, reading, threads
from twinspace_rt.forums.streams import Change
from twinspace_rt.forums.views import forum_payload, post_payloads, thread_payload
from twinspace_rt.hub import events

WRITE_ERRORS = ROOM_ERRORS + (ErrorCode.read_only, ErrorCode.validation_failed)
POST_ERRORS = WRITE_ERRORS + (
    ErrorCode.edit_window_passed,
    ErrorCode.thread_locked,
    ErrorCode.post_deleted,
)
PAGE = {"limit": "1-100, default 50"}


async def publish_changes(
    request: Request, project_id: int, changes: Iterable[Change | None]
) -> None:
    """After the commit: a change is never announced before it is durable."""
    for change in changes:
        if change is not None:
            event = events.stream(change.stream, change.seq, change.frame)
            await services(request).hub.publish(project_id, event)


def edit_window(request: Request) -> timedelta:
    """Forum and bulletin authors share chat's window: one rule for members to learn."""
    return timedelta(seconds=services(request).settings.chat_edit_window_seconds)


def path_id(request: Request, name: str) -> int:
    """A path id beyond what the store holds names nothing (and would overflow the driver)."""
    value = int(request.path_params[name])
    if value > ID_MAX:
        raise AppError(ErrorCode.not_found, f"No such {name.removesuffix('_id')}.")
    return value


async def list_forums(request: Request) -> Response:
    async with in_room(request, Action.forum_read) as (tx, _, member):
        found = await boards.of_project(tx, member)
    return respond(ForumListOut(forums=[ForumOut.model_validate(forum_payload(f)) for f in found]))


async def create_forum(request: Request) -> Response:
    body = await read_body(request, ForumCreateIn)
    async with in_room(request, Action.forum_manage) as (tx, _, member):
        forum, change = await boards.create(tx, member, body.title, body.description, body.position)
    await publish_changes(request, member.project_id, [change])
    return respond(ForumOut.model_validate(forum_payload(forum)), 201)


async def update_forum(request: Request) -> Response:
    body = await read_body(request, ForumPatchIn)
    async with in_room(request, Action.forum_manage) as (tx, _, member):
        forum, change = await boards.update(
            tx,
            member,
            path_id(request, "forum_id"),
            body.title,
            body.description,
            body.position,
        )
    await publish_changes(request, member.project_id, [change])
    return respond(ForumOut.model_validate(forum_payload(forum)))


async def delete_forum(request: Request) -> Response:
    async with in_room(request, Action.forum_manage) as (tx, _, member):
        change = await boards.delete(tx, member, path_id(request, "forum_id"))
    await publish_changes(request, member.project_id, [change])
    return respond(None, 204)


async def list_threads(request: Request) -> Response:
    before = query_int(request, "before", None, 1, ID_MAX)
    limit = query_int(request, "limit", 50, 1, 100)
    assert limit is not None
    async with in_room(request, Action.forum_read) as (tx, _, member):
        page = await threads.list_threads(tx, member, path_id(request, "forum_id"), before, limit)
    return respond(
        ThreadPageOut(
            pinned=[ThreadOut.model_validate(thread_payload(t)) for t in page.pinned],
            threads=[ThreadOut.model_validate(thread_payload(t)) for t in page.threads],
            next_before=page.next_before,
        )
    )


async def create_thread(request: Request) -> Response:
    body = await read_body(request, ThreadCreateIn)
    async with in_room(request, Action.forum_create_thread) as (tx, _, member):
        thread, post, change = await threads.open_thread(
            tx, member, path_id(request, "forum_id"), body.title, body.body, body.materials
        )
        [payload] = await post_payloads(tx, [post])
    await publish_changes(request, member.project_id, [change])
    out = ThreadCreatedOut(
        thread=ThreadOut.model_validate(thread_payload(thread)),
        post=PostOut.model_validate(payload),
    )
    return respond(out, 201)


async def get_thread(request: Request) -> Response:
    async with in_room(request, Action.forum_read) as (tx, _, member):
        thread = await threads.by_id(tx, member, path_id(request, "thread_id"))
    return respond(ThreadOut.model_validate(thread_payload(thread)))


async def update_thread(request: Request) -> Response:
    body = await read_body(request, ThreadPatchIn)
    async with in_room(request, Action.forum_read) as (tx, _, member):
        thread, changes = await threads.update(
            tx,
            member,
            path_id(request, "thread_id"),
            title=body.title,
            pinned=body.pinned,
            locked=body.locked,
            forum_id=body.forum_id,
            window=edit_window(request),
        )
    await publish_changes(request, member.project_id, changes)
    return respond(ThreadOut.model_validate(thread_payload(thread)))


async def list_posts(request: Request) -> Response:
    after = query_int(request, "after", None, 0, ID_MAX)
    limit = query_int(request, "limit", 50, 1, 100)
    assert limit is not None
    async with in_room(request, Action.forum_read) as (tx, _, member):
        thread, found, next_after = await posts.in_thread(
            tx, member, path_id(request, "thread_id"), after, limit
        )
    return respond(
        PostPageOut(
            thread=ThreadOut.model_validate(thread_payload(thread)),
            posts=[PostOut.model_validate(p) for p in found],
            next_after=next_after,
        )
    )


async def create_post(request: Request) -> Response:
    body = await read_body(request, PostCreateIn)
    async with in_room(request, Action.forum_reply) as (tx, _, member):
        post, change = await posts.reply(
            tx, member, path_id(request, "thread_id"), body.body, body.reply_to, body.materials
        )
        [payload] = await post_payloads(tx, [post])
    await publish_changes(request, member.project_id, [change])
    return respond(PostOut.model_validate(payload), 201)


async def read_thread(request: Request) -> Response:
    body = await read_body(request, ReadIn)
    async with in_room(request, Action.forum_read) as (tx, _, member):
        seq = await reading.mark_thread(tx, member, path_id(request, "thread_id"), body.seq)
    return respond(ReadOut(last_read_seq=seq))


FORUM = PROJECT + "/forums/{forum_id:int}"
THREAD = PROJECT + "/threads/{thread_id:int}"


ENDPOINTS = [
    Endpoint(
        "GET",
        PROJECT + "/forums",
        list_forums,
        "The project's forums, in order.",
        response=ForumListOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "POST",
        PROJECT + "/forums",
        create_forum,
        "Create a forum (`forum.manage`).",
        body=ForumCreateIn,
        response=ForumOut,
        status=201,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "PATCH",
        FORUM,
        update_forum,
        "Rename, describe or reorder a forum (`forum.manage`).",
        body=ForumPatchIn,
        response=ForumOut,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "DELETE",
        FORUM,
        delete_forum,
        "Delete an empty forum (`forum.manage`).",
        status=204,
        errors=WRITE_ERRORS + (ErrorCode.conflict,),
    ),
    Endpoint(
        "GET",
        FORUM + "/threads",
        list_threads,
        "Threads by latest activity: pinned first, then pages keyed on `last_post_seq`.",
        response=ThreadPageOut,
        errors=ROOM_ERRORS,
        query={"before": "`next_before` of the previous page", **PAGE},
    ),
    Endpoint(
        "POST",
        FORUM + "/threads",
        create_thread,
        "Open a thread with its first post (`forum.create_thread`).",
        body=ThreadCreateIn,
        response=ThreadCreatedOut,
        status=201,
        errors=WRITE_ERRORS,
    ),
    Endpoint("GET", THREAD, get_thread, "One thread.", response=ThreadOut, errors=ROOM_ERRORS),
    Endpoint(
        "PATCH",
        THREAD,
        update_thread,
        "Rename (author in the edit window, moderators); pin, lock, move (`forum.moderate`).",
        body=ThreadPatchIn,
        response=ThreadOut,
        errors=POST_ERRORS,
    ),
    Endpoint(
        "GET",
        THREAD + "/posts",
        list_posts,
        "A thread's posts, oldest first, pages keyed on `seq`.",
        response=PostPageOut,
        errors=ROOM_ERRORS,
        query={"after": "`next_after` of the previous page", **PAGE},
    ),
    Endpoint(
        "POST",
        THREAD + "/posts",
        create_post,
        "Reply in a thread (`forum.reply`).",
        body=PostCreateIn,
        response=PostOut,
        status=201,
        errors=POST_ERRORS,
    ),
    Endpoint(
        "POST",
        THREAD + "/read",
        read_thread,
        "I have read the thread up to `seq`.",
        body=ReadIn,
        response=ReadOut,
        errors=ROOM_ERRORS,
    ),
]
