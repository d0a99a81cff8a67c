"""Class-size sessions on a real Janus (Debian's, `make janus`), driven through the server.

Janus and the aiortc media peers run in a network namespace of the test's own
(`tests/support/janus.py`); the server runs in the test's process and reaches Janus through its
Unix-socket API. The hub clients signal exactly as a browser's script would: the media peers
never talk to Janus's API, only to its media ports.
"""

from __future__ import annotations

from typing import Any

import pytest

from signaling.janus import MESSAGE_MAX, JanusConnection, JanusError
from tests.chat.test_chat import connect
from tests.support.janus import Janus
from tests.support.live import Live, serve
from tests.support.log_capture import recorded
from tests.support.room import make_room
from tests.support.sfu_peer import SfuPeer
from tests.video.sfu_support import (
    PUPIL_CAMERA,
    TEACHER_CAMERA,
    as_admin,
    janus,
    publish,
    publishers,
    sfu_live,
    subscribe,
    teacher_and_pupil,
    until_publishers,
    until_received,
)
from tests.video.sfu_support import (
    room_id as janus_room_id,
)
from twinspace_rt.settings import Settings

__all__ = ["janus", "sfu_live"]


async def test_a_teacher_publishes_and_pupils_receive_through_janus(
    sfu_live: Live, janus: Janus
) -> None:
    live = sfu_live
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher_admin")
    pupils = [await connect(live, room, role) for role in ("pupil", "pupil_admin")]
    peers: list[SfuPeer] = []
    try:
        started = await teacher.ok("rtc.start", max_participants=30)
        assert started["session"]["topology"] == "sfu"
        assert started["session"]["max_participants"] == 30
        teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
        pupil_ids = [(await pupil.ok("rtc.join"))["participant_id"] for pupil in pupils]

        teacher_peer = await SfuPeer.start(janus)
        peers.append(teacher_peer)
        await publish(teacher, teacher_peer, TEACHER_CAMERA)
        for pupil in pupils:
            await pupil.wait_for("rtc.feed", participant_id=teacher_id, live=True)

        pupil_peers = [await SfuPeer.start(janus) for _ in pupils]
        peers.extend(pupil_peers)
        for pupil, peer in zip(pupils, pupil_peers, strict=True):
            await subscribe(pupil, peer, teacher_id, "teacher")
        for peer in pupil_peers:
            await until_received(peer, "teacher", TEACHER_CAMERA)

        # The first pupil publishes too, and the teacher receives it.
        await publish(pupils[0], pupil_peers[0], PUPIL_CAMERA)
        await teacher.wait_for("rtc.feed", participant_id=pupil_ids[0], live=True)
        await subscribe(teacher, teacher_peer, pupil_ids[0], "pupil")
        await until_received(teacher_peer, "pupil", PUPIL_CAMERA)
        room_id = await janus_room_id(live, room.project_id)
        # One upload per publisher, whoever receives it.
        assert await publishers(janus, room_id) == sorted([teacher_id, pupil_ids[0]])

        # Removed: kicked at the SFU, the feed gone for everyone.
        await teacher.ok("rtc.remove", participant_id=pupil_ids[0])
        await teacher.wait_for("rtc.feed", participant_id=pupil_ids[0], live=False)
        await until_publishers(janus, room_id, [teacher_id])
        assert (await pupils[0].request("rtc.subscribe", participant_id=teacher_id))[
            "code"
        ] == "not_found"

        # Ending the session destroys the Janus room.
        await teacher.ok("rtc.end")
        with pytest.raises(JanusError) as gone:
            await publishers(janus, room_id)
        assert gone.value.code == 426
    finally:
        for peer in peers:
            await peer.close()


def _with_candidates(sdp: str, extra: int) -> str:
    """The offer with ``extra`` more host candidates in its first section, on addresses of the
    namespace's subnet that nobody holds (as a browser with several interfaces and TURN over
    UDP and TCP offers): checks to them stay inside the namespace and fail."""
    lines = sdp.splitlines()
    first = next(i for i, line in enumerate(lines) if line.startswith("a=candidate:"))
    added = [
        f"a=candidate:{9000 + n} 1 udp 2122260223 10.123.0.{100 + n} {40000 + n} typ host"
        for n in range(extra)
    ]
    return "\r\n".join(lines[: first + 1] + added + lines[first + 1 :]) + "\r\n"


async def test_an_offer_over_what_janus_reads_is_published_with_trickled_candidates(
    sfu_live: Live, janus: Janus
) -> None:
    """Janus's Unix socket drops a message over 8 KB without a word, and a browser's offer with
    its candidates can pass that: the description goes without them, and they follow in
    `trickle` messages. Before, the publish waited for an answer that never came."""
    live = sfu_live
    room = await make_room(live.http, live.services)
    async with teacher_and_pupil(live, room, janus) as (teacher, pupil, teacher_peer, pupil_peer):
        await teacher.ok("rtc.start", max_participants=30)
        teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
        await pupil.ok("rtc.join")
        width, height = TEACHER_CAMERA
        offer = await teacher_peer.command("publish", name="camera", width=width, height=height)
        sdp = _with_candidates(offer["sdp"], 100)
        assert len(sdp) > MESSAGE_MAX
        ack = await teacher.ok(
            "rtc.publish", source="camera", description={"type": "offer", "sdp": sdp}
        )
        await teacher_peer.command("answered", name="camera", sdp=ack["description"]["sdp"])
        await pupil.wait_for("rtc.feed", participant_id=teacher_id, live=True)
        await subscribe(pupil, pupil_peer, teacher_id, "teacher")
        await until_received(pupil_peer, "teacher", TEACHER_CAMERA)


async def test_sfu_requests_are_refused_outside_the_rules(sfu_live: Live, janus: Janus) -> None:
    live = sfu_live
    room = await make_room(live.http, live.services)
    teacher, pupil, observer = [
        await connect(live, room, role) for role in ("teacher_admin", "pupil", "observer")
    ]
    peer = await SfuPeer.start(janus)
    try:
        offer = {
            "type": "offer",
            "sdp": (await peer.command("publish", width=64, height=48))["sdp"],
        }
        await teacher.ok("rtc.start", max_participants=20, lobby=True)
        teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
        # Not joined, or waiting in the lobby: nothing reaches Janus.
        assert (await observer.request("rtc.publish", description=offer))["code"] == "not_found"
        waiting = await pupil.ok("rtc.join")
        assert waiting["state"] == "lobby"
        assert (await pupil.request("rtc.publish", description=offer))["code"] == "not_found"
        assert (await pupil.request("rtc.subscribe", participant_id=teacher_id))[
            "code"
        ] == "not_found"
        await teacher.ok("rtc.admit", participant_id=waiting["participant_id"])

        bad: list[tuple[str, dict[str, Any], str]] = [
            (
                "rtc.publish",
                {"description": {"type": "answer", "sdp": offer["sdp"]}},
                "invalid_sdp",
            ),
            ("rtc.publish", {"description": {"type": "offer", "sdp": "v=0\r\n"}}, "invalid_sdp"),
            ("rtc.subscribe", {"participant_id": teacher_id + 1000}, "not_found"),
            (
                "rtc.answer",
                {"subscription": 999, "description": {"type": "answer", "sdp": offer["sdp"]}},
                "not_found",
            ),
            ("rtc.unsubscribe", {"subscription": 999}, "not_found"),
            ("rtc.signal", {"to": teacher_id, "description": offer}, "conflict"),
            ("rtc.publish", {"description": {"type": "offer"}}, "validation_failed"),
        ]
        with recorded() as log:
            for kind, fields, code in bad:
                reply = await pupil.request(kind, **fields)
                assert reply["code"] == code, (kind, fields, reply)
            # A locked camera cannot publish (the offer carries video).
            await teacher.ok("rtc.lock", camera=True)
            assert (await pupil.request("rtc.publish", description=offer))["code"] == "forbidden"
            # The teacher publishes nothing yet: there is no feed to subscribe to.
            reply = await pupil.request("rtc.subscribe", participant_id=teacher_id)
            assert reply["code"] == "not_found", reply
        assert log.tracebacks() == []
    finally:
        await peer.close()


async def test_nobody_reaches_a_room_on_janus_but_the_server(sfu_live: Live, janus: Janus) -> None:
    """Even with Janus's API secret leaked, a guessed room id gets nowhere."""
    live = sfu_live
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher_admin")
    peer = await SfuPeer.start(janus)
    try:
        await teacher.ok("rtc.start", max_participants=30)
        teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
        await publish(teacher, peer, TEACHER_CAMERA)
        await teacher.wait_for("rtc.feed", participant_id=teacher_id, live=True)
        room_id = await janus_room_id(live, room.project_id)

        # Without the API secret, Janus answers nothing at all.
        stranger = await JanusConnection.open(janus.socket_path, None)
        try:
            with pytest.raises(JanusError) as refused:
                await stranger.request({"janus": "create"})
            assert refused.value.code == 403
        finally:
            await stranger.close()

        connection, session = await as_admin(janus)
        try:
            handle = await session.attach()
            listed, _ = await handle.message({"request": "list"})
            assert room_id not in [r["room"] for r in listed["list"]]
            attempts: list[dict[str, Any]] = [
                {"request": "join", "ptype": "publisher", "room": room_id, "id": 77},
                {"request": "join", "ptype": "publisher", "room": room_id, "token": "guess"},
                {
                    "request": "join",
                    "ptype": "subscriber",
                    "room": room_id,
                    "streams": [{"feed": teacher_id}],
                },
                {"request": "kick", "room": room_id, "id": teacher_id, "secret": "guess"},
                {"request": "destroy", "room": room_id, "secret": "guess"},
                {"request": "create", "room": room_id + 1},
            ]
            for body in attempts:
                with pytest.raises(JanusError) as denied:
                    await handle.message(body, wait_event=body["request"] == "join")
                assert denied.value.code in (429, 433), (body, denied.value)
        finally:
            await session.destroy()
            await connection.close()
        assert await publishers(janus, room_id) == [teacher_id]
    finally:
        await peer.close()


async def test_topology_is_mesh_without_a_media_server_or_for_a_small_session(
    settings: Settings, tmp_path: Any
) -> None:
    async with serve(settings) as live:
        room = await make_room(live.http, live.services)
        teacher = await connect(live, room, "teacher_admin")
        session = (await teacher.ok("rtc.start", max_participants=30))["session"]
        assert (session["topology"], session["max_participants"]) == ("mesh", 6)

    # Configured, but unreachable: a class-size session is refused whole, clearly.
    unreachable = settings.model_copy(update={"rtc_janus_socket": str(tmp_path / "none.sock")})
    async with serve(unreachable) as live:
        room = await make_room(live.http, live.services, prefix="u")
        teacher = await connect(live, room, "teacher_admin")
        small = (await teacher.ok("rtc.start", max_participants=4))["session"]
        assert small["topology"] == "mesh"
        await teacher.ok("rtc.end")
        with recorded() as log:
            reply = await teacher.request("rtc.start", max_participants=30)
        assert reply["code"] == "media_unavailable", reply
        assert (await teacher.ok("rtc.state"))["session"] is None
        assert log.tracebacks() == []
