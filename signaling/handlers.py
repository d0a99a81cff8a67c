"""The ``rtc.*`` requests of the hub socket: change the store, then tell whom it concerns.

Session state goes to every socket of the room as ``rtc.session``; what concerns one participant
(a relayed signal, an admission, a mute request, a removal) goes to that participant's socket
alone. Both travel as broker events, so they reach sockets on every node.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from signaling import controls, sessions, sfu_cluster, sfu_placement
from signaling.breakout_requests import REQUESTS as BREAKOUT_REQUESTS
from signaling.ice import ice_servers
from signaling.messages import (
    RtcAdmit,
    RtcEnd,
    RtcHand,
    RtcJoin,
    RtcLeave,
    RtcLock,
    RtcMedia,
    RtcMute,
    RtcRemove,
    RtcSignal,
    RtcStart,
    RtcState,
)
from signaling.routing import route
from signaling.sdp import check_candidate, check_description
from signaling.sfu import Sfu
from signaling.sfu_requests import REQUESTS as SFU_REQUESTS
from signaling.state import SessionState, read, running
from signaling.telling import actor, announce, tell
from twinspace_rt.auth.budget import TokenBucket
from twinspace_rt.auth.policy import Action, require
from twinspace_rt.hub.connection import Connection
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import push
from twinspace_rt.hub.request import Request
from twinspace_rt.storage.video_models import Participant, ParticipantState


def _seat(hub: Hub, state: SessionState, me: Participant) -> dict[str, Any]:
    """What a participant needs to connect: its id, ICE servers, and its glare role."""
    others = [p.id for p in state.seated() if p.id != me.id and p.id is not None]
    assert me.id is not None
    return {
        "participant_id": me.id,
        "polite": all(me.id > other for other in others),
        "ice_servers": ice_servers(hub.settings, me.user_id, time.time()),
    }


async def start(hub: Hub, conn: Connection, request: RtcStart, *, sfu: Sfu) -> dict[str, Any]:
    """An SFU session's room is made on Janus (the least loaded instance) before the session
    commits: if Janus refuses, no session starts."""
    kind, size = sessions.topology(request, hub.settings, sfu.configured)
    async with hub.db.transaction() as tx:
        state = await sessions.start(tx, conn.member, request, kind, size)
        if kind == "sfu":
            state.video.media_server = await sfu_placement.choose(tx, sfu)
            await sfu.create_room(sfu.room(state.video), size)
    return {"session": await announce(hub, conn.member.project_id, state)}


async def current(hub: Hub, conn: Connection, request: RtcState) -> dict[str, Any]:
    require(conn.member, Action.project_view)
    async with hub.db.reader() as tx:
        video = await running(tx, conn.member.project_id)
        state = None if video is None else await read(tx, video)
        removed = state is not None and await sessions.was_removed(tx, state, conn.user_id)
    return {"session": None if state is None else state.payload(), "removed": removed}


async def join(hub: Hub, conn: Connection, request: RtcJoin) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        joined = await sessions.join(tx, actor(hub, conn), conn.display_name)
    conn.in_video = True
    settings = hub.settings
    conn.buckets.setdefault(
        "rtc.signal", TokenBucket(settings.rtc_signal_rate_per_second, settings.rtc_signal_burst)
    )
    payload = await announce(hub, conn.member.project_id, joined.state)
    answer: dict[str, Any] = {
        "participant_id": joined.me.id,
        "state": str(joined.me.state),
        "rejoined": joined.rejoined,
        "session": payload,
    }
    if joined.me.state == ParticipantState.joined:
        answer.update(_seat(hub, joined.state, joined.me))
    return answer


async def signal(hub: Hub, conn: Connection, request: RtcSignal) -> dict[str, Any]:
    """Relayed to one participant of the same session, after aiortc's parser accepts it."""
    settings = hub.settings
    fields: dict[str, Any] = {}
    if request.description is not None:
        check_description(request.description, settings.rtc_sdp_max_bytes)
        fields["description"] = request.description.model_dump()
    if request.candidate is not None:
        check_candidate(request.candidate, settings.rtc_candidate_max_bytes)
        fields["candidate"] = request.candidate.model_dump()
    async with hub.db.reader() as tx:
        found = await route(tx, conn.member, conn.id, request.to)
    frame = push("rtc.signal", **{"from": found.sender_id}, **fields)
    await tell(hub, conn.member.project_id, found.target_connection_id, frame)
    return {}


async def media(hub: Hub, conn: Connection, request: RtcMedia, *, sfu: Sfu) -> dict[str, Any]:
    """On the SFU, turning media on lifts a moderator's mute of it at Janus (the checks passed:
    no lock holds it)."""
    async with hub.db.transaction() as tx:
        state = await sessions.media(tx, actor(hub, conn), request)
    payload = await announce(hub, conn.member.project_id, state)
    mine = sessions.me(state, conn.id)
    if state.video.topology == "sfu" and mine.id is not None:
        kinds = sfu_cluster.moderation(
            False if request.mic else None,
            False if request.camera else None,
            False if request.screen else None,
        )
        await sfu_cluster.moderate(hub, sfu, state.video, [mine], kinds)
    return {"session": payload}


async def hand(hub: Hub, conn: Connection, request: RtcHand) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        state = await sessions.hand(tx, actor(hub, conn), request.raised)
    return {"session": await announce(hub, conn.member.project_id, state)}


async def leave(hub: Hub, conn: Connection, request: RtcLeave, *, sfu: Sfu) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        state, mine = await sessions.leave_session(tx, actor(hub, conn))
    await announce(hub, conn.member.project_id, state)
    await sfu_cluster.gone_from_sfu(hub, sfu, state, mine)
    return {}


async def admit(hub: Hub, conn: Connection, request: RtcAdmit) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        state, target = await controls.admit(tx, actor(hub, conn), request.participant_id)
    project_id = conn.member.project_id
    payload = await announce(hub, project_id, state)
    frame = push("rtc.admitted", session=payload, **_seat(hub, state, target))
    await tell(hub, project_id, target.connection_id, frame)
    return {"session": payload}


async def _muted(
    hub: Hub,
    conn: Connection,
    state: SessionState,
    targets: list[Participant],
    mic: bool,
    camera: bool,
) -> dict[str, Any]:
    """Asks each target's client to turn its media off, then tells the room the new state."""
    project_id = conn.member.project_id
    frame = push("rtc.muted", by=conn.user_id, mic=mic, camera=camera)
    for target in targets:
        await tell(hub, project_id, target.connection_id, frame)
    return {"session": await announce(hub, project_id, state)}


async def _moderated(
    hub: Hub, sfu: Sfu, state: SessionState, targets: list[Participant], mic: bool, camera: bool
) -> None:
    """On the SFU a mute is enforced: Janus stops forwarding the targets' muted media until
    they turn it on again (`media`), which a lock refuses while it holds."""
    if state.video.topology != "sfu":
        return
    kinds = sfu_cluster.moderation(mic or None, camera or None, camera or None)
    await sfu_cluster.moderate(hub, sfu, state.video, targets, kinds)


async def mute(hub: Hub, conn: Connection, request: RtcMute, *, sfu: Sfu) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        state, targets = await controls.mute(tx, actor(hub, conn), request)
    await _moderated(hub, sfu, state, targets, request.mic, request.camera)
    return await _muted(hub, conn, state, targets, request.mic, request.camera)


async def lock(hub: Hub, conn: Connection, request: RtcLock, *, sfu: Sfu) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        state, affected = await controls.lock_media(tx, actor(hub, conn), request)
    mic, camera = bool(request.mic), bool(request.camera)
    # At Janus a lock holds every feed that may not moderate, whatever its state says.
    held = [p for p in state.seated() if not controls.is_moderator(conn.member, p)]
    await _moderated(hub, sfu, state, held, mic, camera)
    return await _muted(hub, conn, state, affected, mic, camera)


async def remove(hub: Hub, conn: Connection, request: RtcRemove, *, sfu: Sfu) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        state, target, connection_id = await controls.remove(
            tx, actor(hub, conn), request.participant_id
        )
    project_id = conn.member.project_id
    frame = push("rtc.removed", participant_id=target.id, by=conn.user_id)
    await tell(hub, project_id, connection_id, frame)
    payload = await announce(hub, project_id, state)
    await sfu_cluster.gone_from_sfu(hub, sfu, state, target, kick=True)
    return {"session": payload}


async def end(hub: Hub, conn: Connection, request: RtcEnd, *, sfu: Sfu) -> dict[str, Any]:
    async with hub.db.transaction() as tx:
        state = await controls.end(tx, actor(hub, conn))
    payload = await announce(hub, conn.member.project_id, state)
    if state.video.topology == "sfu":
        for group in (None, *range(1, state.video.breakouts + 1)):
            room = sfu.room(state.video, group)
            await sfu.destroy_room(room)
            await sfu_cluster.ended(hub, room.id)
    return {"session": payload}


async def dropped(hub: Hub, conn: Connection, *, sfu: Sfu) -> None:
    """The hub's leave hook: the seat waits as ``reconnecting``, then is given up after grace."""
    if not conn.in_video:
        return
    grace = hub.settings.rtc_rejoin_grace_seconds
    async with hub.db.transaction() as tx:
        state = await sessions.dropped(tx, conn.id, datetime.now(UTC), grace)
    if state is None:
        return
    project_id = conn.member.project_id
    await announce(hub, project_id, state)
    session_id = state.video.id
    if state.video.active_project_id is None or session_id is None:
        return

    async def expire() -> None:
        async with hub.db.transaction() as tx:
            expired = await sessions.expire(tx, session_id, datetime.now(UTC), grace)
        if expired.video.active_project_id is not None:
            await announce(hub, project_id, expired)
            for participant in expired.expired:
                await sfu_cluster.gone_from_sfu(hub, sfu, expired, participant)

    hub.later(grace + 0.5, expire)


FEATURE = "video"


def register(hub: Hub) -> None:
    """Video signaling's request types, pushes and leave hook: called once when the
    application is built."""
    sfu = Sfu(hub.settings)
    for model, handler in (
        (RtcState, current),
        (RtcJoin, join),
        (RtcSignal, signal),
        (RtcHand, hand),
        (RtcAdmit, admit),
    ):
        hub.features.request(FEATURE, model, handler)
    with_sfu: list[tuple[type[Request], Callable[..., Awaitable[dict[str, Any]]]]] = [
        (RtcStart, start),
        (RtcLeave, leave),
        (RtcEnd, end),
        (RtcRemove, remove),
        (RtcMedia, media),
        (RtcMute, mute),
        (RtcLock, lock),
        *SFU_REQUESTS,
        *BREAKOUT_REQUESTS,
    ]
    for sfu_model, sfu_handler in with_sfu:
        hub.features.request(FEATURE, sfu_model, partial(sfu_handler, sfu=sfu))
    for name, summary in (
        ("rtc.session", "the room's video session changed"),
        ("rtc.signal", "an offer, answer or candidate from another participant"),
        ("rtc.admitted", "the participant was let in from the lobby"),
        ("rtc.muted", "a moderator turned the participant's media off"),
        ("rtc.removed", "the participant was removed"),
        ("rtc.feed", "a feed (camera or screen) in my SFU room started or ended"),
        ("rtc.speaker", "a participant on the SFU started or stopped talking"),
        ("rtc.moved", "the participant was moved to a breakout group or back"),
        ("rtc.broadcast", "a moderator's message to every breakout group"),
        ("rtc.media_restart", "the session moved to another media server: publish again"),
    ):
        hub.features.push(FEATURE, name, summary)
    hub.features.on_leave.append(partial(dropped, sfu=sfu))

    async def follow() -> None:
        sfu_cluster.follow(hub, sfu)

    hub.features.on_start.append(follow)
    hub.features.on_stop.append(sfu.close)
