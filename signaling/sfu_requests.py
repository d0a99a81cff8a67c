"""The ``rtc.*`` requests of SFU sessions: publish to Janus and subscribe to feeds, through the
server only.

Every request is checked here before Janus hears of it: the permission table (``video.join``;
``video.share_screen`` for a screen), a seat that is ``joined`` (not in the lobby, not removed)
in the project's running session, and, for a publish offer, the locks and the publish rule
(`sessions.check_turning_on`). The offer or answer passes the same SDP checks as a mesh signal.
Janus's answer and offers come back in the request's ack; a new feed goes into the session state
and is announced to its room with ``rtc.feed`` once it is up (`signaling/sfu_feeds.py`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from signaling import sfu_cluster, sfu_feeds
from signaling.messages import (
    Description,
    RtcAnswer,
    RtcLayer,
    RtcPublish,
    RtcSubscribe,
    RtcUnpublish,
    RtcUnsubscribe,
)
from signaling.sdp import check_description
from signaling.sessions import check_turning_on, me
from signaling.sfu import Sfu
from signaling.sfu_rooms import feed_owner
from signaling.state import read, running
from twinspace_rt.auth.policy import Action, require
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.hub.connection import Connection
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.request import Request
from twinspace_rt.storage.video_models import SEATED, Participant, VideoSession

# How long a published feed may take to connect before it is given up as never announced.
FEED_UP_SECONDS = 60.0


@dataclass(frozen=True)
class Seat:
    video: VideoSession
    me: Participant
    others: dict[int, Participant]


async def _seat(hub: Hub, conn: Connection) -> Seat:
    require(conn.member, Action.video_join)
    async with hub.db.reader() as tx:
        video = await running(tx, conn.member.project_id)
        if video is None:
            raise AppError(ErrorCode.not_found, "No video session is running in this project.")
        state = await read(tx, video)
    if video.topology != "sfu":
        raise AppError(ErrorCode.conflict, "This session is a mesh: use `rtc.signal`.")
    mine = me(state, conn.id)
    others = {p.id: p for p in state.seated() if p.id is not None and p.id != mine.id}
    return Seat(video, mine, others)


def _checked(hub: Hub, description: Description, expected: str) -> str:
    if description.type != expected:
        raise AppError(ErrorCode.invalid_sdp, f"Send an {expected} here.")
    check_description(description, hub.settings.rtc_sdp_max_bytes)
    return description.sdp


def _kinds(sdp: str) -> set[str]:
    return {line[2:].split(" ", 1)[0] for line in sdp.splitlines() if line.startswith("m=")}


def _id(participant: Participant) -> int:
    assert participant.id is not None
    return participant.id


async def _keep_muted(hub: Hub, sfu: Sfu, video: VideoSession, room_id: int, feed: int) -> None:
    """A participant a moderator muted who publishes again (a new handle, or back from a
    dropped socket) cannot lift the mute that way: what the state says is off stays muted at
    Janus, before anyone receives the feed, until the participant turns it on (`rtc.media`)."""
    participant_id, source = feed_owner(feed)
    async with hub.db.reader() as tx:
        state = await read(tx, video)
    mine = next((p for p in state.seated() if p.id == participant_id), None)
    if mine is None or mine.muted_by is None:
        return
    off = sfu_cluster.moderation(
        not mine.mic or None, not mine.camera or None, not mine.screen or None
    )
    if source in off:
        await sfu.moderate(room_id, participant_id, source, off[source])


async def publish(hub: Hub, conn: Connection, request: RtcPublish, *, sfu: Sfu) -> dict[str, Any]:
    offer = _checked(hub, request.description, "offer")
    source = request.source
    if source == "screen":
        require(conn.member, Action.video_share_screen)
    seat = await _seat(hub, conn)
    kinds = _kinds(offer)
    check_turning_on(seat.video, conn.member, "audio" in kinds, "video" in kinds)
    participant_id = _id(seat.me)
    project_id = conn.member.project_id
    room = sfu.room(seat.video, seat.me.breakout)
    live = sfu_feeds.live_feed(seat.me, source)
    feed, answer = await sfu.publish(room, project_id, participant_id, source, offer, live)

    async def announce() -> None:
        """Once the peer's media reached Janus: before that, nobody could subscribe to it.
        A feed that replaces a live one (a returning participant's) takes over its
        subscriptions first."""
        if not await sfu.live(room, feed, FEED_UP_SECONDS):
            return
        await _keep_muted(hub, sfu, seat.video, room.id, feed)
        if live is not None and live != feed:
            await sfu_cluster.switch(hub, room.id, live, feed, sfu.mids(room.id, feed))
        await sfu_feeds.went_live(hub, sfu, seat.video, room, feed)

    hub.later(0, announce)
    return {"description": {"type": "answer", "sdp": answer}}


async def unpublish(
    hub: Hub, conn: Connection, request: RtcUnpublish, *, sfu: Sfu
) -> dict[str, Any]:
    seat = await _seat(hub, conn)
    room = sfu.room(seat.video, seat.me.breakout)
    live = sfu_feeds.live_feed(seat.me, request.source)
    if not await sfu.unpublish(room, _id(seat.me), request.source) and live is not None:
        # Live, but held by the node this participant talked through before its socket
        # dropped.
        await sfu_cluster.release(hub, room.id, live)
    await sfu_feeds.ended(hub, sfu, conn.member.project_id, _id(seat.me), request.source)
    return {}


async def subscribe(
    hub: Hub, conn: Connection, request: RtcSubscribe, *, sfu: Sfu
) -> dict[str, Any]:
    seat = await _seat(hub, conn)
    other = seat.others.get(request.participant_id)
    if other is None or other.state not in SEATED:
        raise AppError(ErrorCode.not_found, f"Participant {request.participant_id} is not here.")
    if other.breakout != seat.me.breakout:
        raise AppError(
            ErrorCode.not_found, f"Participant {request.participant_id} is in another group."
        )
    feed = sfu_feeds.live_feed(other, request.source)
    if feed is None:
        raise AppError(
            ErrorCode.not_found, f"Participant {request.participant_id} publishes no such feed."
        )
    number, offer = await sfu.subscribe(
        sfu.room(seat.video, seat.me.breakout),
        conn.member.project_id,
        _id(seat.me),
        feed,
        sfu_feeds.live_feed(seat.me, "camera"),
    )
    return {"subscription": number, "description": {"type": "offer", "sdp": offer}}


async def answer(hub: Hub, conn: Connection, request: RtcAnswer, *, sfu: Sfu) -> dict[str, Any]:
    sdp = _checked(hub, request.description, "answer")
    seat = await _seat(hub, conn)
    await sfu.answer(_id(seat.me), request.subscription, sdp)
    return {}


async def layer(hub: Hub, conn: Connection, request: RtcLayer, *, sfu: Sfu) -> dict[str, Any]:
    seat = await _seat(hub, conn)
    await sfu.layer(_id(seat.me), request.subscription, request.substream, request.temporal)
    return {}


async def unsubscribe(
    hub: Hub, conn: Connection, request: RtcUnsubscribe, *, sfu: Sfu
) -> dict[str, Any]:
    seat = await _seat(hub, conn)
    await sfu.unsubscribe(_id(seat.me), request.subscription)
    return {}


# Each handler takes the node's `Sfu` as `sfu=` (bound in `handlers.register`).
REQUESTS: tuple[tuple[type[Request], Callable[..., Awaitable[dict[str, Any]]]], ...] = (
    (RtcPublish, publish),
    (RtcUnpublish, unpublish),
    (RtcSubscribe, subscribe),
    (RtcAnswer, answer),
    (RtcLayer, layer),
    (RtcUnsubscribe, unsubscribe),
)
