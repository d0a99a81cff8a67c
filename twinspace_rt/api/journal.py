"""The project journal over REST: posts, comments, likes, pins, approval, reports, read marks.

Every change stores its push in the journal streams in its transaction and is published after
the commit (`api/forums.publish_changes`), so subscribed sockets see it live and resume it.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.forum_schemas import ID_MAX, ReportIn, ReportOut
from twinspace_rt.api.forums import POST_ERRORS, WRITE_ERRORS, path_id, publish_changes
from twinspace_rt.api.http import Endpoint, in_room, query_int, read_body, respond, services
from twinspace_rt.api.page_schemas import (
    CommentsOut,
    JournalPageOut,
    JournalPatchIn,
    JournalPostIn,
    JournalPostOut,
    JournalReadIn,
    JournalReadOut,
    LikeIn,
)
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.auth.policy import Action
from twinspace_rt.errors import ErrorCode
from twinspace_rt.forums.streams import Change
from twinspace_rt.hub import events
from twinspace_rt.hub.protocol import push
from twinspace_rt.journal import posts, reading
from twinspace_rt.journal.views import payloads


def _out(payload: dict[str, object]) -> JournalPostOut:
    return JournalPostOut.model_validate(payload)


async def list_posts(request: Request) -> Response:
    before = query_int(request, "before", None, 1, ID_MAX)
    limit = query_int(request, "limit", 20, 1, 100)
    assert limit is not None
    async with in_room(request, Action.journal_read) as (tx, _, member):
        pinned, found, next_before = await posts.listed(tx, member, before, limit)
    return respond(
        JournalPageOut(
            pinned=[_out(p) for p in pinned],
            posts=[_out(p) for p in found],
            next_before=next_before,
        )
    )


async def create_post(request: Request) -> Response:
    body = await read_body(request, JournalPostIn)
    async with in_room(request, Action.journal_post) as (tx, _, member):
        shown, changes = await posts.write(tx, member, body.body, None, body.materials)
    await publish_changes(request, member.project_id, changes)
    return respond(_out(shown), 201)


async def list_comments(request: Request) -> Response:
    async with in_room(request, Action.journal_read) as (tx, _, member):
        found = await posts.comments(tx, member, path_id(request, "post_id"))
    return respond(CommentsOut(comments=[_out(p) for p in found]))


async def create_comment(request: Request) -> Response:
    body = await read_body(request, JournalPostIn)
    async with in_room(request, Action.journal_react) as (tx, _, member):
        post_id = path_id(request, "post_id")
        shown, changes = await posts.write(tx, member, body.body, post_id, body.materials)
    await publish_changes(request, member.project_id, changes)
    return respond(_out(shown), 201)


async def update_post(request: Request) -> Response:
    body = await read_body(request, JournalPatchIn)
    post_id = path_id(request, "post_id")
    async with in_room(request, Action.journal_read) as (tx, _, member):
        changes: list[Change] = []
        shown = None
        if body.body is not None or body.materials is not None:
            shown, changes = await posts.edit(tx, member, post_id, body.body, body.materials)
        if body.pinned is not None or body.approved:
            approve = bool(body.approved)
            shown, more = await posts.moderate(tx, member, post_id, body.pinned, approve)
            changes += more
        if shown is None:
            [shown] = await payloads(tx, [await posts.by_id(tx, member, post_id)])
    await publish_changes(request, member.project_id, changes)
    return respond(_out(shown))


async def delete_post(request: Request) -> Response:
    async with in_room(request, Action.journal_read) as (tx, _, member):
        _, changes = await posts.delete(tx, member, path_id(request, "post_id"))
    await publish_changes(request, member.project_id, changes)
    return respond(None, 204)


async def like(request: Request) -> Response:
    body = await read_body(request, LikeIn)
    async with in_room(request, Action.journal_react) as (tx, _, member):
        shown, changes = await posts.like(tx, member, path_id(request, "post_id"), body.on)
    await publish_changes(request, member.project_id, changes)
    return respond(_out(shown))


async def report(request: Request) -> Response:
    body = await read_body(request, ReportIn)
    async with in_room(request, Action.content_report) as (tx, _, member):
        entry = await posts.report(tx, member, path_id(request, "post_id"), body.reason)
    assert entry.id is not None
    frame = push(
        "journal.reported",
        report_id=entry.id,
        post_id=entry.target_id,
        reporter_id=member.user_id,
        reason=body.reason,
    )
    await services(request).hub.publish(
        member.project_id, events.to_moderators(frame, Action.journal_moderate.value)
    )
    return respond(ReportOut(report_id=entry.id), 201)


async def mark_read(request: Request) -> Response:
    body = await read_body(request, JournalReadIn)
    async with in_room(request, Action.journal_read) as (tx, _, member):
        last = await reading.mark(tx, member, body.post_id)
    return respond(JournalReadOut(last_read_id=last))


JOURNAL = PROJECT + "/journal"
POST = JOURNAL + "/{post_id:int}"

ENDPOINTS = [
    Endpoint(
        "GET",
        JOURNAL,
        list_posts,
        "Pinned posts, then the others newest first; a pupil's post in review only for "
        "moderators and its author.",
        response=JournalPageOut,
        errors=ROOM_ERRORS,
        query={"before": "`next_before` of the previous page", "limit": "1-100, default 20"},
    ),
    Endpoint(
        "POST",
        JOURNAL,
        create_post,
        "Post in the journal (`journal.post`; pupils per the project's `pupil_posts`).",
        body=JournalPostIn,
        response=JournalPostOut,
        status=201,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "PATCH",
        POST,
        update_post,
        "Edit (author, moderators: audited); pin or approve (`journal.moderate`).",
        body=JournalPatchIn,
        response=JournalPostOut,
        errors=POST_ERRORS + (ErrorCode.conflict,),
    ),
    Endpoint(
        "DELETE",
        POST,
        delete_post,
        "Delete, leaving a tombstone (author; moderators: audited).",
        status=204,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "GET",
        POST + "/comments",
        list_comments,
        "A post's comments, oldest first.",
        response=CommentsOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "POST",
        POST + "/comments",
        create_comment,
        "Comment on a published post (`journal.react`); one level.",
        body=JournalPostIn,
        response=JournalPostOut,
        status=201,
        errors=POST_ERRORS + (ErrorCode.conflict,),
    ),
    Endpoint(
        "POST",
        POST + "/like",
        like,
        "Like (`on: true`, idempotent) or unlike a published post or comment.",
        body=LikeIn,
        response=JournalPostOut,
        errors=POST_ERRORS + (ErrorCode.conflict,),
    ),
    Endpoint(
        "POST",
        POST + "/report",
        report,
        "Report a post or comment to the teachers (`content.report`), audited.",
        body=ReportIn,
        response=ReportOut,
        status=201,
        errors=WRITE_ERRORS,
    ),
    Endpoint(
        "POST",
        JOURNAL + "/read",
        mark_read,
        "I have read the journal up to post `post_id`.",
        body=JournalReadIn,
        response=JournalReadOut,
        errors=ROOM_ERRORS,
    ),
]
