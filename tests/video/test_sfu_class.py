"""A class on Janus: eight pupils and their teacher, the active speaker, screen sharing and the
simulcast layer of a subscription, all through the hub as a browser's script would do it."""

from __future__ import annotations

from typing import Any

from tests.chat.test_chat import connect
from tests.support.janus import Janus
from tests.support.live import Live
from tests.support.log_capture import recorded
from tests.support.room import make_room
from tests.support.sfu_peer import SfuPeer
from tests.video.sfu_support import (
    PUPIL_CAMERA,
    TEACHER_CAMERA,
    janus,
    participants,
    publish,
    pupils,
    room_id,
    sfu_live,
    subscribe,
    until_received,
)

__all__ = ["janus", "sfu_live"]

CLASS_SIZE = 8
SCREEN = (200, 150)


async def test_a_teacher_and_eight_pupils_each_upload_once(sfu_live: Live, janus: Janus) -> None:
    live = sfu_live
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher_admin")
    clients = await pupils(live, room, CLASS_SIZE)
    peers: list[SfuPeer] = []
    try:
        await teacher.ok("rtc.start", max_participants=CLASS_SIZE + 1)
        teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
        pupil_ids = [(await client.ok("rtc.join"))["participant_id"] for client in clients]
        teacher_peer = await SfuPeer.start(janus)
        peers.append(teacher_peer)
        await publish(teacher, teacher_peer, TEACHER_CAMERA)
        pupil_peers = [await SfuPeer.start(janus) for _ in clients]
        peers.extend(pupil_peers)
        for client, peer in zip(clients, pupil_peers, strict=True):
            await publish(client, peer, PUPIL_CAMERA)
        for pupil_id in pupil_ids:
            await teacher.wait_for("rtc.feed", participant_id=pupil_id, live=True)
        for client, peer in zip(clients, pupil_peers, strict=True):
            await subscribe(client, peer, teacher_id, "teacher")
        for number, pupil_id in enumerate(pupil_ids):
            await subscribe(teacher, teacher_peer, pupil_id, f"pupil {number}")

        for peer in pupil_peers:
            await until_received(peer, "teacher", TEACHER_CAMERA)
        for number in range(CLASS_SIZE):
            await until_received(teacher_peer, f"pupil {number}", PUPIL_CAMERA)
        # Janus holds one seat and one upload per participant, whoever watches it.
        found = await participants(janus, await room_id(live, room.project_id))
        assert sorted(p["id"] for p in found) == sorted([teacher_id, *pupil_ids])
        assert all(p["publisher"] for p in found)
    finally:
        for peer in peers:
            await peer.close()


async def test_the_active_speaker_is_pushed_from_janus_audio_levels(
    sfu_live: Live, janus: Janus
) -> None:
    live = sfu_live
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher_admin")
    pupil = await connect(live, room, "pupil")
    peer = await SfuPeer.start(janus)
    try:
        await teacher.ok("rtc.start", max_participants=30)
        await teacher.ok("rtc.join")
        pupil_id = (await pupil.ok("rtc.join"))["participant_id"]
        await publish(pupil, peer, PUPIL_CAMERA)
        await teacher.wait_for("rtc.feed", participant_id=pupil_id, live=True)
        # Silence first: the tone starts only once the feed is up, then stops again.
        assert teacher.of_type("rtc.speaker") == []
        await peer.command("loud", loud=True)
        await teacher.wait_for("rtc.speaker", participant_id=pupil_id, talking=True)
        await pupil.wait_for("rtc.speaker", participant_id=pupil_id, talking=True)
        await peer.command("loud", loud=False)
        await teacher.wait_for("rtc.speaker", participant_id=pupil_id, talking=False)
        speaking = [p["talking"] for p in teacher.of_type("rtc.speaker")]
        assert speaking == [True, False]
    finally:
        await peer.close()


async def test_a_screen_is_shared_as_a_second_feed(sfu_live: Live, janus: Janus) -> None:
    live = sfu_live
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher_admin")
    presenter = await connect(live, room, "pupil_admin")
    pupil = await connect(live, room, "pupil")
    peers = [await SfuPeer.start(janus) for _ in range(3)]
    teacher_peer, presenter_peer, pupil_peer = peers
    try:
        await teacher.ok("rtc.start", max_participants=30)
        await teacher.ok("rtc.join")
        presenter_id = (await presenter.ok("rtc.join"))["participant_id"]
        await pupil.ok("rtc.join")
        await publish(presenter, presenter_peer, PUPIL_CAMERA)
        await publish(presenter, presenter_peer, SCREEN, source="screen", audio=False)
        for source in ("camera", "screen"):
            await teacher.wait_for(
                "rtc.feed", participant_id=presenter_id, source=source, live=True
            )
        await subscribe(teacher, teacher_peer, presenter_id, "camera")
        await subscribe(teacher, teacher_peer, presenter_id, "screen", source="screen")
        await until_received(teacher_peer, "camera", PUPIL_CAMERA)
        await until_received(teacher_peer, "screen", SCREEN, sound=False)
        found = await participants(janus, await room_id(live, room.project_id))
        assert len([p for p in found if p["publisher"]]) == 2

        # Who may share a screen is in the permission table: not a pupil.
        offer = await pupil_peer.command("publish", name="screen", width=64, height=48)
        description = {"type": "offer", "sdp": offer["sdp"]}
        with recorded() as log:
            reply = await pupil.request("rtc.publish", source="screen", description=description)
            assert reply["code"] == "forbidden", reply
            assert (await pupil.request("rtc.media", screen=True))["code"] == "forbidden"
            reply = await pupil.request("rtc.publish", source="window", description=description)
            assert reply["code"] == "validation_failed", reply
        assert log.tracebacks() == []

        # The screen stops; the camera goes on.
        await presenter.ok("rtc.unpublish", source="screen")
        await teacher.wait_for("rtc.feed", participant_id=presenter_id, source="screen", live=False)
        assert [
            p for p in teacher.of_type("rtc.feed") if p["source"] == "camera" and not p["live"]
        ] == []
    finally:
        for peer in peers:
            await peer.close()


async def test_a_subscriber_chooses_a_simulcast_layer(sfu_live: Live, janus: Janus) -> None:
    live = sfu_live
    room = await make_room(live.http, live.services)
    other = await make_room(live.http, live.services, prefix="o")
    teacher = await connect(live, room, "teacher_admin")
    pupil = await connect(live, room, "pupil")
    stranger = await connect(live, other, "teacher_admin")
    peers = [await SfuPeer.start(janus) for _ in range(2)]
    teacher_peer, pupil_peer = peers
    try:
        await teacher.ok("rtc.start", max_participants=30)
        await stranger.ok("rtc.start", max_participants=30)
        teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
        await stranger.ok("rtc.join")
        pupil_id = (await pupil.ok("rtc.join"))["participant_id"]
        await publish(teacher, teacher_peer, TEACHER_CAMERA)
        await publish(pupil, pupil_peer, PUPIL_CAMERA, video=False)
        await pupil.wait_for("rtc.feed", participant_id=teacher_id, live=True)
        await teacher.wait_for("rtc.feed", participant_id=pupil_id, live=True)
        video = await subscribe(pupil, pupil_peer, teacher_id, "teacher")
        sound = await subscribe(teacher, teacher_peer, pupil_id, "pupil")
        await until_received(pupil_peer, "teacher", TEACHER_CAMERA)

        for substream, temporal in ((0, 0), (2, None), (1, 2)):
            fields: dict[str, Any] = {"subscription": video, "substream": substream}
            if temporal is not None:
                fields["temporal"] = temporal
            await pupil.ok("rtc.layer", **fields)
        # The layer changes nothing for a feed sent in one layer: frames go on arriving.
        await until_received(pupil_peer, "teacher", TEACHER_CAMERA)

        bad: list[tuple[Any, dict[str, Any], str]] = [
            (pupil, {"subscription": video, "substream": 3}, "validation_failed"),
            (pupil, {"subscription": video, "substream": 0, "temporal": -1}, "validation_failed"),
            (pupil, {"subscription": video}, "validation_failed"),
            (pupil, {"subscription": 999999, "substream": 0}, "not_found"),
            (teacher, {"subscription": video, "substream": 0}, "not_found"),
            (stranger, {"subscription": video, "substream": 0}, "not_found"),
            (teacher, {"subscription": sound, "substream": 0}, "conflict"),
        ]
        with recorded() as log:
            for client, fields, code in bad:
                reply = await client.request("rtc.layer", **fields)
                assert reply["code"] == code, (fields, reply)
        assert log.tracebacks() == []
    finally:
        for peer in peers:
            await peer.close()
