"""Members of a room and the pupil accounts a teacher administrator creates."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.http import Endpoint, in_room, read_body, respond, room_changed
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.api.schemas import (
    MemberInviteIn,
    MemberListOut,
    MemberOut,
    MemberPatchIn,
    PupilCredentialsListOut,
    PupilCredentialsOut,
    PupilsCreateIn,
)
from twinspace_rt.auth.policy import Action
from twinspace_rt.errors import ErrorCode
from twinspace_rt.projects import members
from twinspace_rt.storage.models import User


async def list_members(request: Request) -> Response:
    async with in_room(request) as (tx, project, member):
        found = await members.list_members(tx, member.project_id)
    return respond(MemberListOut(members=[MemberOut.of(m, u, project) for m, u in found]))


async def invite_member(request: Request) -> Response:
    body = await read_body(request, MemberInviteIn)
    async with in_room(request, Action.members_manage) as (tx, project, actor):
        membership, invited = await members.invite(tx, actor, body.username, body.role)
    return respond(MemberOut.of(membership, invited, project), 201)


async def update_member(request: Request) -> Response:
    body = await read_body(request, MemberPatchIn)
    async with in_room(request, Action.members_manage) as (tx, project, actor):
        membership, target = await members.change_role(
            tx, actor, project, request.path_params["user_id"], body.role
        )
    await room_changed(request, actor.project_id)
    return respond(MemberOut.of(membership, target, project))


async def remove_member(request: Request) -> Response:
    async with in_room(request, Action.members_manage) as (tx, project, actor):
        await members.remove(tx, actor, project, request.path_params["user_id"])
    await room_changed(request, actor.project_id)
    return respond(None, 204)


async def create_pupils(request: Request) -> Response:
    body = await read_body(request, PupilsCreateIn)
    async with in_room(request, Action.pupils_create) as (tx, _, actor):
        created = await members.create_pupils(tx, actor, body.names, body.role)
    pupils = [_credentials(pupil, password) for pupil, password in created]
    return respond(PupilCredentialsListOut(pupils=pupils), 201)


async def reset_pupil_password(request: Request) -> Response:
    async with in_room(request, Action.pupils_create) as (tx, _, actor):
        pupil, password = await members.reset_pupil_password(
            tx, actor, request.path_params["user_id"]
        )
    await room_changed(request, actor.project_id)
    return respond(_credentials(pupil, password))


def _credentials(pupil: User, password: str) -> PupilCredentialsOut:
    assert pupil.id is not None
    return PupilCredentialsOut(
        user_id=pupil.id,
        username=pupil.username,
        display_name=pupil.display_name,
        password=password,
    )


MEMBER = PROJECT + "/members/{user_id:int}"
MANAGE_ERRORS = ROOM_ERRORS + (ErrorCode.read_only,)

ENDPOINTS = [
    Endpoint(
        "GET",
        PROJECT + "/members",
        list_members,
        "The members of a project.",
        response=MemberListOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "POST",
        PROJECT + "/members",
        invite_member,
        "Invite a teacher by username with a teacher role (`members.manage`).",
        body=MemberInviteIn,
        response=MemberOut,
        status=201,
        errors=MANAGE_ERRORS + (ErrorCode.already_member, ErrorCode.role_not_allowed),
    ),
    Endpoint(
        "PATCH",
        MEMBER,
        update_member,
        "Change a member's role (`members.manage`).",
        body=MemberPatchIn,
        response=MemberOut,
        errors=MANAGE_ERRORS
        + (ErrorCode.role_not_allowed, ErrorCode.founder_protected, ErrorCode.last_admin),
    ),
    Endpoint(
        "DELETE",
        MEMBER,
        remove_member,
        "Remove a member (`members.manage`).",
        status=204,
        errors=MANAGE_ERRORS + (ErrorCode.founder_protected, ErrorCode.last_admin),
    ),
    Endpoint(
        "POST",
        PROJECT + "/pupils",
        create_pupils,
        "Create one pupil or a class list; returns usernames and one-time passwords once "
        "(`pupils.create`).",
        body=PupilsCreateIn,
        response=PupilCredentialsListOut,
        status=201,
        errors=MANAGE_ERRORS,
    ),
    Endpoint(
        "POST",
        PROJECT + "/pupils/{user_id:int}/reset-password",
        reset_pupil_password,
        "Give a pupil a new one-time password; their sessions end (`pupils.create`).",
        response=PupilCredentialsOut,
        errors=MANAGE_ERRORS,
    ),
]
