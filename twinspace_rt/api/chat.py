"""Chat channels over REST: the list a member may read, and new channels for teacher admins.

Messages themselves travel over the hub socket (docs/PROTOCOL.md).
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from twinspace_rt.api.http import Endpoint, in_room, read_body, respond
from twinspace_rt.api.projects import PROJECT, ROOM_ERRORS
from twinspace_rt.api.schemas import ChannelCreateIn, ChannelListOut, ChannelOut
from twinspace_rt.auth.policy import Action
from twinspace_rt.chat import channels
from twinspace_rt.errors import ErrorCode


async def list_channels(request: Request) -> Response:
    async with in_room(request, Action.chat_read) as (tx, _, member):
        found = await channels.readable(tx, member)
    return respond(ChannelListOut(channels=[ChannelOut.of(c) for c in found]))


async def create_channel(request: Request) -> Response:
    body = await read_body(request, ChannelCreateIn)
    async with in_room(request, Action.chat_manage_channels) as (tx, _, member):
        channel = await channels.create(tx, member, body.name, body.title, body.rule)
    return respond(ChannelOut.of(channel), 201)


ENDPOINTS = [
    Endpoint(
        "GET",
        PROJECT + "/channels",
        list_channels,
        "The chat channels I may read.",
        response=ChannelListOut,
        errors=ROOM_ERRORS,
    ),
    Endpoint(
        "POST",
        PROJECT + "/channels",
        create_channel,
        "Add a channel with a member rule (`chat.manage_channels`).",
        body=ChannelCreateIn,
        response=ChannelOut,
        status=201,
        errors=ROOM_ERRORS + (ErrorCode.read_only, ErrorCode.conflict),
    ),
]
