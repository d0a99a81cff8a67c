"""Materials on the hub: subscribing to a project's ``materials`` stream (everyone) and its
``review`` stream (reviewers), replayed from a seq and then live, exactly as forums are.

Writes go through REST (`api/materials.py`) and the processing jobs, which store each change
with its stream seq and publish it after the commit.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from pydantic import Field

from twinspace_rt.auth.policy import Member, can, require
from twinspace_rt.hub.connection import Connection, StreamCursor
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.replay import Follow, follow
from twinspace_rt.hub.request import Request, Since
from twinspace_rt.materials.streams import READ_ACTION, MaterialsBacklog, Stream, hub_key

StreamName = Literal["materials", "review"]


class MaterialsSubscribe(Request):
    """``since`` per stream: the last seq the client holds, or null for live only."""

    type: Literal["materials.subscribe"]
    streams: Annotated[dict[StreamName, Since | None], Field(min_length=1)]


class MaterialsUnsubscribe(Request):
    type: Literal["materials.unsubscribe"]
    streams: Annotated[list[StreamName], Field(max_length=2)]


async def subscribe(hub: Hub, conn: Connection, request: MaterialsSubscribe) -> dict[str, Any]:
    wanted = [
        Follow(
            stream.value,
            hub_key(stream),
            since,
            StreamCursor(
                name=hub_key(stream),
                readable=partial(_may_read, stream=stream),
                backlog=MaterialsBacklog(conn.member.project_id, stream),
            ),
            partial(require, conn.member, READ_ACTION[stream]),
        )
        for stream, since in ((Stream(name), since) for name, since in request.streams.items())
    ]
    return {"streams": await follow(hub.db, conn, wanted, hub.settings.chat_resume_max)}


def _may_read(member: Member, stream: Stream) -> bool:
    return can(member, READ_ACTION[stream])


async def unsubscribe(hub: Hub, conn: Connection, request: MaterialsUnsubscribe) -> dict[str, Any]:
    for name in request.streams:
        conn.cursors.pop(hub_key(Stream(name)), None)
    return {}


def register(hub: Hub) -> None:
    hub.features.request("materials", MaterialsSubscribe, subscribe)
    hub.features.request("materials", MaterialsUnsubscribe, unsubscribe)
    for name, summary in (
        ("materials.collection.changed", "an album or folder was created or changed"),
        ("materials.material.created", "a material is ready (or was approved)"),
        ("materials.material.changed", "a material's title, description or place changed"),
        ("materials.material.deleted", "a material was deleted or rejected"),
        ("materials.review.changed", "a pupil's upload awaits review, or was reviewed (reviewers)"),
        ("materials.resync", "a subscribed materials stream could not be caught up"),
    ):
        hub.features.push("materials", name, summary)
