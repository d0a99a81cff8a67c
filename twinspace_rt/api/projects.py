"""Project rooms: found one, list mine, read and change one, read its audit log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.http import (
    Endpoint,
    caller,
    in_room,
    query_int,
    read_body,
    respond,
    room_changed,
    services,
)
from twinspace_rt.api.schemas import (
    AuditEntryOut,
    AuditListOut,
    ProjectCreateIn,
    ProjectListOut,
    ProjectOut,
    ProjectPatchIn,
)
from twinspace_rt.auth.policy import Action, ProjectStatus
from twinspace_rt.errors import ErrorCode
from twinspace_rt.projects import audit, membership
from twinspace_rt.services import found_project

ROOM_ERRORS = (ErrorCode.not_found, ErrorCode.forbidden, ErrorCode.project_closed)


async def create_project(request: Request) -> Response:
    body = await read_body(request, ProjectCreateIn)
    async with services(request).db.transaction() as tx:
        user = await caller(request, tx)
        project, member = await found_project(tx, user, body.name, body.description)
    return respond(ProjectOut.of(project, member), 201)


async def list_projects(request: Request) -> Response:
    async with services(request).db.transaction() as tx:
        user = await caller(request, tx)
        found = await membership.projects_of(tx, user)
    return respond(ProjectListOut(projects=[ProjectOut.of(p, m) for p, m in found]))


async def get_project(request: Request) -> Response:
    async with in_room(request) as (_, project, member):
        return respond(ProjectOut.of(project, member))


async def update_project(request: Request) -> Response:
    body = await read_body(request, ProjectPatchIn)
    async with in_room(request, Action.project_manage) as (tx, project, member):
        project = await membership.update_project(
            tx, project, member, body.name, body.description, body.status
        )
        member = membership.as_member(project, member.user_id, member.role)
    if body.status is ProjectStatus.closed:
        # Closing removes the project's materials and their blobs (issue 15).
        await services(request).materials.purge(member.project_id)
    await room_changed(request, member.project_id)
    return respond(ProjectOut.of(project, member))


async def audit_log(request: Request) -> Response:
    before = query_int(request, "before", None, 1, 2**62)
    limit = query_int(request, "limit", 50, 1, 200)
    assert limit is not None
    async with in_room(request, Action.audit_read) as (tx, _, member):
        entries = await audit.entries(tx, member.project_id, before, limit)
    next_before = entries[-1].id if len(entries) == limit else None
    return respond(
        AuditListOut(entries=[AuditEntryOut.of(e) for e in entries], next_before=next_before)
    )


PROJECT = "/api/projects/{project_id:int}"

ENDPOINTS = [
    Endpoint(
        "POST",
        "/api/projects",
        create_project,
        "Found a project; the caller becomes its teacher administrator (teachers only).",
        body=ProjectCreateIn,
        response=ProjectOut,
        status=201,
        errors=(ErrorCode.forbidden,),
    ),
    Endpoint(
        "GET", "/api/projects", list_projects, "The projects I may enter.", response=ProjectListOut
    ),
    Endpoint(
        "GET",
        PROJECT,
        get_project,
        "One project, with my role and permissions.",
        response=ProjectOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "PATCH",
        PROJECT,
        update_project,
        "Rename, describe, archive, close or reopen (`project.manage`).",
        body=ProjectPatchIn,
        response=ProjectOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "GET",
        PROJECT + "/audit",
        audit_log,
        "The administration and moderation audit log, newest first (`audit.read`).",
        response=AuditListOut,
        errors=ROOM_ERRORS,
        query={"before": "entry id to page back from", "limit": "1-200, default 50"},
    ),
]
