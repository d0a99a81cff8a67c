"""Posts over REST: the teachers' bulletin, and edits, deletions, reactions and reports of any
post (forum or bulletin). Each stored change is published after the commit, as in
`api/forums.py`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.forum_schemas import (
    ID_MAX,
    BulletinCreateIn,
    BulletinPageOut,
    PostEditIn,
    PostOut,
    ReactionIn,
    ReadIn,
    ReadOut,
    ReportIn,
    ReportOut,
)
from twinspace_rt.api.forums import (
    PAGE,
    POST_ERRORS,
    WRITE_ERRORS,
    edit_window,
    path_id,
    publish_changes,
)
from twinspace_rt.api.http import Endpoint, in_room, query_int, read_body, respond, services
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.auth.policy import Action
from twinspace_rt.forums import moderation, posts, reading
from twinspace_rt.forums.views import post_payloads
from twinspace_rt.hub import events
from twinspace_rt.hub.protocol import push


async def list_bulletin(request: Request) -> Response:
    before = query_int(request, "before", None, 1, ID_MAX)
    limit = query_int(request, "limit", 50, 1, 100)
    assert limit is not None
    async with in_room(request, Action.bulletin_read) as (tx, _, member):
        found, next_before = await posts.on_bulletin(tx, member, before, limit)
    return respond(
        BulletinPageOut(posts=[PostOut.model_validate(p) for p in found], next_before=next_before)
    )


async def create_bulletin_post(request: Request) -> Response:
    body = await read_body(request, BulletinCreateIn)
    async with in_room(request, Action.bulletin_post) as (tx, _, member):
        post, change = await posts.post_bulletin(tx, member, body.body)
        [payload] = await post_payloads(tx, [post])
    await publish_changes(request, member.project_id, [change])
    return respond(PostOut.model_validate(payload), 201)


async def read_bulletin(request: Request) -> Response:
    body = await read_body(request, ReadIn)
    async with in_room(request, Action.bulletin_read) as (tx, _, member):
        seq = await reading.mark_bulletin(tx, member, body.seq)
    return respond(ReadOut(last_read_seq=seq))


async def edit_post(request: Request) -> Response:
    body = await read_body(request, PostEditIn)
    async with in_room(request) as (tx, _, member):
        payload, change = await posts.edit(
            tx, member, path_id(request, "post_id"), body.body, edit_window(request)
        )
    await publish_changes(request, member.project_id, [change])
    return respond(PostOut.model_validate(payload))


async def delete_post(request: Request) -> Response:
    async with in_room(request) as (tx, _, member):
        payload, change = await posts.delete(
            tx, member, path_id(request, "post_id"), edit_window(request)
        )
    await publish_changes(request, member.project_id, [change])
    return respond(PostOut.model_validate(payload))


async def react(request: Request) -> Response:
    body = await read_body(request, ReactionIn)
    async with in_room(request) as (tx, _, member):
        payload, change = await posts.react(
            tx, member, path_id(request, "post_id"), body.emoji, body.on
        )
    await publish_changes(request, member.project_id, [change])
    return respond(PostOut.model_validate(payload))


async def report(request: Request) -> Response:
    body = await read_body(request, ReportIn)
    async with in_room(request) as (tx, _, member):
        entry = await moderation.report(tx, member, path_id(request, "post_id"), body.reason)
    assert entry.id is not None
    frame = push(
        "forum.reported",
        report_id=entry.id,
        board=entry.kind,
        post_id=entry.target_id,
        reporter_id=member.user_id,
        reason=body.reason,
    )
    action = Action.forum_moderate if entry.kind == "forum" else Action.bulletin_moderate
    await services(request).hub.publish(
        member.project_id, events.to_moderators(frame, action.value)
    )
    return respond(ReportOut(report_id=entry.id), 201)


POST = PROJECT + "/posts/{post_id:int}"

ENDPOINTS = [
    Endpoint(
        "GET",
        PROJECT + "/bulletin",
        list_bulletin,
        "The teachers' bulletin, newest first (`bulletin.read`).",
        response=BulletinPageOut,
        errors=ROOM_ERRORS,
        query={"before": "`next_before` of the previous page", **PAGE},
    ),
    Endpoint(
        "POST",
        PROJECT + "/bulletin",
        create_bulletin_post,
        "Post on the teachers' bulletin (`bulletin.post`).",
        body=BulletinCreateIn,
        response=PostOut,
        status=201,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "POST",
        PROJECT + "/bulletin/read",
        read_bulletin,
        "I have read the bulletin up to `seq`.",
        body=ReadIn,
        response=ReadOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "PATCH",
        POST,
        edit_post,
        "Edit a post (author in the edit window; forum moderators any time).",
        body=PostEditIn,
        response=PostOut,
        errors=POST_ERRORS,
    ),
    Endpoint(
        "DELETE",
        POST,
        delete_post,
        "Delete a post, leaving a tombstone (author; moderators any time).",
        response=PostOut,
        errors=POST_ERRORS,
    ),
    Endpoint(
        "POST",
        POST + "/reactions",
        react,
        "Add (`on`) or remove a reaction.",
        body=ReactionIn,
        response=PostOut,
        errors=POST_ERRORS,
    ),
    Endpoint(
        "POST",
        POST + "/report",
        report,
        "Report a post to the moderators.",
        body=ReportIn,
        response=ReportOut,
        status=201,
        errors=WRITE_ERRORS,
    ),
]
