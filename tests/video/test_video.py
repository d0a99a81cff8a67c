"""Video sessions with real aiortc peers, each signaling through its own hub socket.

ICE runs on loopback only (`loopback_only`) with no STUN server; the peers send real video
frames and data-channel messages to each other.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from typing import Any

import pytest
from aiortc import RTCPeerConnection
from pydantic import SecretStr

from signaling.ice import ice_servers, turn_credentials
from tests.chat.test_chat import connect
from tests.support.live import HubClient, Live, serve
from tests.support.room import Room, make_room
from tests.support.rtc_peer import Peer, loopback_only, session_of, until
from tests.support.services import require_shared_redis
from tests.support.waiting import WAIT
from twinspace_rt.settings import Settings

# `printf '1780003600:42' | openssl dgst -sha1 -hmac north-sea-secret -binary | base64`
KNOWN_TURN_PASSWORD = "cNPD9rhps8t2Un9NIGNjBLXv5UA="


@pytest.fixture(autouse=True)
def _loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    loopback_only(monkeypatch)


async def _peer(node: Live, room: Room, role: str, size: tuple[int, int]) -> Peer:
    return Peer(await connect(node, room, role), role, size)


async def _people(live: Live, room: Room, *roles: str) -> list[HubClient]:
    return [await connect(live, room, role) for role in roles]


async def _close(*peers: Peer) -> None:
    for peer in peers:
        await peer.close()


def _states(session: dict[str, Any]) -> dict[int, str]:
    return {p["participant_id"]: p["state"] for p in session["participants"]}


async def _offer_sdp() -> str:
    """A real description, as a browser would send it."""
    pc = RTCPeerConnection()
    pc.createDataChannel("probe")
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    await pc.close()
    return sdp


async def test_two_then_three_classrooms_see_and_message_each_other(live: Live) -> None:
    room = await make_room(live.http, live.services)
    lisbon = await _peer(live, room, "teacher_admin", (64, 48))
    gdansk = await _peer(live, room, "teacher", (96, 64))
    pupils = await _peer(live, room, "pupil", (128, 96))
    try:
        started = await lisbon.client.ok("rtc.start")
        assert started["session"]["status"] == "active"
        # Everyone in the room is told, joined or not.
        await pupils.client.wait_for("rtc.session")

        first = await lisbon.join()
        assert first["polite"] is True and first["ice_servers"] == []
        second = await gdansk.join()
        assert second["polite"] is True and second["participant_id"] > first["participant_id"]
        await gdansk.call(lisbon.participant_id)
        await until(lambda: lisbon.sees(gdansk) and gdansk.sees(lisbon))

        await pupils.join()
        for other in (lisbon, gdansk):
            await pupils.call(other.participant_id)
        everyone = (lisbon, gdansk, pupils)
        await until(lambda: all(a.sees(b) for a in everyone for b in everyone if a is not b))
        for peer in everyone:
            assert {pc.connectionState for pc in peer.pcs.values()} == {"connected"}

        await pupils.client.ok("rtc.leave")
        await until(lambda: pupils.participant_id not in _states(session_of(lisbon.client)))
        assert set(_states(session_of(gdansk.client))) == {
            lisbon.participant_id,
            gdansk.participant_id,
        }
    finally:
        await _close(lisbon, gdansk, pupils)


async def test_signaling_is_refused_outside_the_rules(live: Live) -> None:
    room = await make_room(live.http, live.services)
    teacher, pupil, expert, observer = await _people(
        live, room, "teacher_admin", "pupil", "expert", "observer"
    )

    refused = await pupil.request("rtc.start")
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    assert (await pupil.request("rtc.join"))["code"] == "not_found"
    await teacher.ok("rtc.start")
    me = (await teacher.ok("rtc.join"))["participant_id"]
    them = (await pupil.ok("rtc.join"))["participant_id"]
    sdp = await _offer_sdp()
    offer = {"type": "offer", "sdp": sdp}
    await teacher.ok("rtc.signal", to=them, description=offer)
    [relayed] = await pupil.wait_for("rtc.signal")
    assert relayed["from"] == me and relayed["description"] == offer

    # A socket that has not joined cannot signal anyone, and nobody can signal it.
    outsider = await expert.request("rtc.signal", to=them, description=offer)
    assert outsider["code"] == "forbidden"
    ghost = await teacher.request("rtc.signal", to=them + 1000, description=offer)
    assert ghost["code"] == "not_found"

    # Malformed or oversized descriptions and candidates are refused whole.
    bad = [
        {"description": {"type": "offer", "sdp": "hello"}},
        {"description": {"type": "offer", "sdp": "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\n"}},
        {"description": {"type": "offer", "sdp": sdp.replace("a=fingerprint", "a=x")}},
        {"description": {"type": "offer", "sdp": sdp + "a=x-pad:" + "x" * 20000 + "\r\n"}},
        {"candidate": {"candidate": "candidate:garbage", "sdpMid": "0"}},
        {"candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 99999 typ host", "sdpMid": "0"}},
        {"candidate": {"candidate": "candidate:1 1 udp 1 127.0.0.1 5000 typ host"}},
    ]
    for fields in bad:
        reply = await teacher.request("rtc.signal", to=them, **fields)
        assert reply["code"] == "invalid_sdp", (fields, reply)
    schema = await teacher.request(
        "rtc.signal", to=them, description={"type": "pranswer", "sdp": sdp}
    )
    assert schema["code"] == "validation_failed"

    # A removed participant's signaling, and rejoining, are refused.
    await teacher.ok("rtc.remove", participant_id=them)
    [removed] = await pupil.wait_for("rtc.removed")
    assert removed["by"] == room.user_ids["teacher_admin"]
    assert (await pupil.request("rtc.signal", to=me, description=offer))["code"] == (
        "participant_removed"
    )
    assert (await pupil.request("rtc.join"))["code"] == "participant_removed"
    # Asked again (a reload, another device), the state tells them, so no Join is offered.
    assert (await pupil.ok("rtc.state"))["removed"] is True
    assert (await teacher.ok("rtc.state"))["removed"] is False
    assert (await teacher.request("rtc.signal", to=them, description=offer))["code"] == "not_found"
    await observer.ok("ping")
    # Only the one relayed offer ever reached the pupil; nobody else got any signal.
    await pupil.ok("ping")
    assert len(pupil.of_type("rtc.signal")) == 1
    assert observer.of_type("rtc.signal") == expert.of_type("rtc.signal") == []
    audit = await live.http.get(
        f"/api/projects/{room.project_id}/audit", headers=room.headers["teacher_admin"]
    )
    [removal] = [e for e in audit.json()["entries"] if e["action"] == "video.remove"]
    assert removal["target_user_id"] == room.user_ids["pupil"]


async def test_teacher_controls_work_and_are_audited(live: Live) -> None:
    room = await make_room(live.http, live.services)
    admin, teacher, pupil, helper, observer = await _people(
        live, room, "teacher_admin", "teacher", "pupil", "pupil_admin", "observer"
    )

    await admin.ok("rtc.start", lobby=True, max_participants=4)
    assert (await admin.request("rtc.start"))["code"] == "conflict"
    await admin.ok("rtc.join")
    # Moderators skip the lobby; pupils wait in it until admitted.
    assert (await teacher.ok("rtc.join"))["state"] == "joined"
    waiting = await pupil.ok("rtc.join")
    assert waiting["state"] == "lobby" and "ice_servers" not in waiting
    assert (await pupil.request("rtc.media", mic=True))["code"] == "not_found"
    assert (await pupil.request("rtc.admit", participant_id=1))["code"] == "forbidden"
    await admin.ok("rtc.admit", participant_id=waiting["participant_id"])
    [admitted] = await pupil.wait_for("rtc.admitted")
    assert admitted["participant_id"] == waiting["participant_id"]
    assert admitted["polite"] is True and admitted["ice_servers"] == []
    pupil_id = admitted["participant_id"]
    helper_id = (await helper.ok("rtc.join"))["participant_id"]
    await admin.ok("rtc.admit", participant_id=helper_id)

    # The session was opened for four: a fifth waits in the lobby and cannot be admitted.
    fifth = (await observer.ok("rtc.join"))["participant_id"]
    full = await admin.request("rtc.admit", participant_id=fifth)
    assert full["code"] == "session_full"

    # Hands are queued in the order they went up.
    await helper.ok("rtc.hand", raised=True)
    await pupil.ok("rtc.hand", raised=True)
    state = (await teacher.ok("rtc.hand", raised=True))["session"]
    assert state["hands"][:2] == [helper_id, pupil_id]
    state = (await helper.ok("rtc.hand", raised=False))["session"]
    assert state["hands"][0] == pupil_id

    # Mute one: the request reaches the pupil, the state shows who muted whom.
    await pupil.ok("rtc.media", mic=True, camera=True)
    state = (await admin.ok("rtc.mute", participant_id=pupil_id))["session"]
    [muted] = await pupil.wait_for("rtc.muted")
    assert muted == {
        "type": "rtc.muted",
        "by": room.user_ids["teacher_admin"],
        "mic": True,
        "camera": False,
    }
    mine = next(p for p in state["participants"] if p["participant_id"] == pupil_id)
    assert mine["media"] == {"mic": False, "camera": True, "screen": False}
    assert mine["muted_by"] == room.user_ids["teacher_admin"]

    # Lock microphones: pupils cannot turn theirs on; moderators can.
    await pupil.ok("rtc.media", mic=True)
    await admin.ok("rtc.lock", mic=True)
    assert len(await pupil.wait_for("rtc.muted", count=2)) == 2
    assert (await pupil.request("rtc.media", mic=True))["code"] == "forbidden"
    await teacher.ok("rtc.media", mic=True)
    await admin.ok("rtc.lock", mic=False)
    await pupil.ok("rtc.media", mic=True)

    # Lock cameras: off for pupils at once, refused to them until unlocked.
    await pupil.ok("rtc.media", camera=True)
    state = (await admin.ok("rtc.lock", camera=True))["session"]
    assert (
        next(p for p in state["participants"] if p["participant_id"] == pupil_id)["media"]["camera"]
        is False
    )
    assert (await pupil.request("rtc.media", screen=True))["code"] == "forbidden"
    await admin.ok("rtc.lock", camera=False)

    # Mute all but the moderator.
    state = (await admin.ok("rtc.mute"))["session"]
    assert all(not p["media"]["mic"] for p in state["participants"])

    # End: everyone in the room learns it, and the seats are gone.
    await admin.ok("rtc.end")
    await until(lambda: session_of(observer)["status"] == "ended")
    assert session_of(observer)["participants"] == []
    assert (await pupil.request("rtc.media", mic=True))["code"] == "not_found"
    assert (await admin.ok("rtc.state"))["session"] is None

    # A new session may start; this one lets only moderators publish video.
    await admin.ok("rtc.start", publish="moderators")
    await pupil.ok("rtc.join")
    assert (await pupil.request("rtc.media", camera=True))["code"] == "forbidden"
    await pupil.ok("rtc.media", mic=True)

    audit = await live.http.get(
        f"/api/projects/{room.project_id}/audit", headers=room.headers["teacher_admin"]
    )
    actions = [entry["action"] for entry in audit.json()["entries"]]
    for action in ("video.start", "video.admit", "video.mute", "video.lock", "video.end"):
        assert action in actions, actions


async def test_a_dropped_participant_rejoins_as_the_same_peer(settings: Settings) -> None:
    """Within the grace period, as long as the suite's bound: no rejoin has to beat a clock."""
    grace = settings.model_copy(update={"rtc_rejoin_grace_seconds": WAIT})
    async with serve(grace) as live:
        room = await make_room(live.http, live.services)
        lisbon = await _peer(live, room, "teacher_admin", (64, 48))
        gdansk = await _peer(live, room, "teacher", (96, 64))
        try:
            await lisbon.client.ok("rtc.start")
            await lisbon.join()
            await gdansk.join()
            await gdansk.call(lisbon.participant_id)
            await until(lambda: lisbon.sees(gdansk) and gdansk.sees(lisbon))
            dropped_id = gdansk.participant_id

            # Gdańsk's hub socket drops; its media keeps flowing, its seat waits.
            await gdansk.client.close()
            await until(
                lambda: _states(session_of(lisbon.client)).get(dropped_id) == "reconnecting"
            )
            back = await connect(live, room, "teacher")
            rejoined = await back.ok("rtc.join")
            assert rejoined["participant_id"] == dropped_id and rejoined["rejoined"] is True
            await until(lambda: _states(session_of(lisbon.client)).get(dropped_id) == "joined")
            # Signals reach the new socket under the same id: no renegotiation from scratch.
            sdp = lisbon.pcs[dropped_id].localDescription.sdp
            await lisbon.client.ok(
                "rtc.signal", to=dropped_id, description={"type": "offer", "sdp": sdp}
            )
            [relayed] = await back.wait_for("rtc.signal")
            assert relayed["from"] == lisbon.participant_id
            assert lisbon.pcs[dropped_id].connectionState == "connected"
        finally:
            await _close(lisbon, gdansk)


async def test_a_participant_away_past_the_grace_period_loses_the_seat(
    settings: Settings,
) -> None:
    grace = settings.model_copy(update={"rtc_rejoin_grace_seconds": 1.5})
    async with serve(grace) as live:
        room = await make_room(live.http, live.services)
        teacher, pupil = await _people(live, room, "teacher_admin", "pupil")
        await teacher.ok("rtc.start")
        await teacher.ok("rtc.join")
        pupil_id = (await pupil.ok("rtc.join"))["participant_id"]
        await pupil.close()
        await until(lambda: pupil_id not in _states(session_of(teacher)))
        # It waited as reconnecting first (a state the teacher was pushed, however briefly).
        states = [_states(p["session"]).get(pupil_id) for p in teacher.of_type("rtc.session")]
        assert states.index("reconnecting") > states.index("joined")


def test_turn_credentials_follow_the_coturn_rest_definition() -> None:
    secret, user_id, now, ttl = "north-sea-secret", 42, 1_780_000_000.7, 3600
    username, password = turn_credentials(secret, user_id, now, ttl)
    assert username == "1780003600:42"
    expected = base64.b64encode(
        hmac.new(b"north-sea-secret", b"1780003600:42", hashlib.sha1).digest()
    ).decode()
    assert password == expected
    # And a known answer from another implementation (OpenSSL, see the constant).
    assert password == KNOWN_TURN_PASSWORD


def test_ice_servers_come_from_settings(settings: Settings) -> None:
    assert ice_servers(settings, 7, 1000.0) == []
    configured = settings.model_copy(
        update={
            "rtc_stun_urls": ["stun:stun.school.example:3478"],
            "rtc_turn_urls": ["turn:turn.school.example:3478?transport=udp"],
            "rtc_turn_secret": SecretStr("s3cret"),
            "rtc_turn_ttl_seconds": 600,
        }
    )
    stun, turn = ice_servers(configured, 7, 1000.0)
    assert stun == {"urls": ["stun:stun.school.example:3478"]}
    assert turn["urls"] == ["turn:turn.school.example:3478?transport=udp"]
    assert turn["username"] == "1600:7"
    assert turn["credential"] == turn_credentials("s3cret", 7, 1000.0, 600)[1]
    with pytest.raises(ValueError, match="TURN_SECRET"):
        Settings(_env_file=None, rtc_turn_urls="turn:x:3478")


async def test_participants_on_two_nodes_connect_to_each_other(
    settings: Settings, pg_database_url: str
) -> None:
    shared = settings.model_copy(
        update={
            "database_url": pg_database_url,
            "redis_url": await require_shared_redis(),
            "redis_prefix": f"test-{uuid.uuid4().hex[:8]}",
        }
    )
    async with serve(shared) as a, serve(shared) as b:
        room = await make_room(a.http, a.services)
        lisbon = await _peer(a, room, "teacher_admin", (64, 48))
        gdansk = await _peer(b, room, "teacher", (96, 64))
        try:
            await lisbon.client.ok("rtc.start")
            await gdansk.client.wait_for("rtc.session")
            await lisbon.join()
            await gdansk.join()
            await gdansk.call(lisbon.participant_id)
            await until(lambda: lisbon.sees(gdansk) and gdansk.sees(lisbon))
            await gdansk.client.ok("rtc.hand", raised=True)
            await until(lambda: session_of(lisbon.client)["hands"] == [gdansk.participant_id])
        finally:
            await _close(lisbon, gdansk)


async def test_signals_have_a_budget_of_their_own(settings: Settings) -> None:
    tight = settings.model_copy(update={"rtc_signal_burst": 5, "rtc_signal_rate_per_second": 0.01})
    async with serve(tight) as live:
        room = await make_room(live.http, live.services)
        teacher = await connect(live, room, "teacher_admin")
        pupil = await connect(live, room, "pupil")
        await teacher.ok("rtc.start")
        await teacher.ok("rtc.join")
        them = (await pupil.ok("rtc.join"))["participant_id"]
        end = {"candidate": "", "sdpMid": "0"}
        for _ in range(5):
            await teacher.ok("rtc.signal", to=them, candidate=end)
        over = await teacher.request("rtc.signal", to=them, candidate=end)
        assert over["code"] == "rate_limited"
        # The rest of the hub is untouched by it.
        await teacher.ok("chat.send", channel="general", text="still here", key="k")
        assert len(await pupil.wait_for("rtc.signal", count=5)) == 5
