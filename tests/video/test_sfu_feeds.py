"""The live feeds of an SFU session in its state: who publishes what, as Janus has it, for a
participant who comes late (and so heard no ``rtc.feed`` of them)."""

from __future__ import annotations

from typing import Any

from signaling.sfu_rooms import SECOND
from tests.chat.test_chat import connect
from tests.support.janus import Janus
from tests.support.live import HubClient, Live
from tests.support.room import make_room
from tests.support.sfu_peer import SfuPeer
from tests.support.waiting import eventually
from tests.video.sfu_support import (
    PUPIL_CAMERA,
    TEACHER_CAMERA,
    janus,
    publish,
    room_id,
    sfu_live,
    subscribe,
    teacher_receives_pupil,
    until_publishers,
    until_received,
)

__all__ = ["janus", "sfu_live"]

# The camera of a pupil's page after it came back: another size than before.
RETURNED_CAMERA = (128, 96)


def _feeds(session: dict[str, Any]) -> dict[int, dict[str, bool]]:
    return {p["participant_id"]: p["feeds"] for p in session["participants"]}


async def _until_feeds(client: HubClient, participant_id: int, feeds: dict[str, bool]) -> None:
    """Waits for an ``rtc.session`` whose state gives the participant those live feeds."""

    def shown() -> bool:
        states = client.of_type("rtc.session")
        return bool(states) and _feeds(states[-1]["session"]).get(participant_id) == feeds

    await eventually(shown)


async def test_a_late_joiner_subscribes_to_the_live_feeds_its_state_shows(
    sfu_live: Live, janus: Janus
) -> None:
    live = sfu_live
    room = await make_room(live.http, live.services)
    teacher, pupil, late = [
        await connect(live, room, role) for role in ("teacher_admin", "pupil", "pupil_admin")
    ]
    peers = [await SfuPeer.start(janus) for _ in range(3)]
    teacher_peer, pupil_peer, late_peer = peers
    try:
        await teacher.ok("rtc.start", max_participants=30)
        teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
        pupil_id = (await pupil.ok("rtc.join"))["participant_id"]
        await publish(teacher, teacher_peer, TEACHER_CAMERA)
        await publish(pupil, pupil_peer, PUPIL_CAMERA)
        await teacher.wait_for("rtc.feed", participant_id=pupil_id, live=True)
        await pupil.wait_for("rtc.feed", participant_id=teacher_id, live=True)

        # The latecomer's own join says who publishes; it subscribes at once, with no
        # `rtc.feed` of either (those went out before it was in the session).
        joined = await late.ok("rtc.join")
        camera = {"camera": True, "screen": False}
        assert _feeds(joined["session"]) == {
            teacher_id: camera,
            pupil_id: camera,
            joined["participant_id"]: {"camera": False, "screen": False},
        }
        await subscribe(late, late_peer, teacher_id, "teacher")
        await subscribe(late, late_peer, pupil_id, "pupil")
        assert late.of_type("rtc.feed") == []
        await until_received(late_peer, "teacher", TEACHER_CAMERA)
        await until_received(late_peer, "pupil", PUPIL_CAMERA)

        # The state follows the feeds: a camera unpublished is off in it, and nobody may
        # subscribe to it any more.
        await pupil.ok("rtc.unpublish")
        await _until_feeds(late, pupil_id, {"camera": False, "screen": False})
        await late.wait_for("rtc.feed", participant_id=pupil_id, live=False)
        reply = await late.request("rtc.subscribe", participant_id=pupil_id)
        assert reply["code"] == "not_found", reply
        # The teacher's page goes: Janus hangs its feed up, and the state says so too.
        await teacher_peer.command("hangup", name="camera")
        await _until_feeds(late, teacher_id, {"camera": False, "screen": False})
        await late.wait_for("rtc.feed", participant_id=teacher_id, live=False)
        # The teacher, still seated, publishes again: its feed is live in the state again.
        await publish(teacher, teacher_peer, TEACHER_CAMERA, name="again")
        await _until_feeds(late, teacher_id, camera)
    finally:
        for peer in peers:
            await peer.close()


async def test_a_returning_pupil_is_switched_in_unless_its_feed_was_hung_up(
    sfu_live: Live, janus: Janus
) -> None:
    """On one node: the pupil's socket drops while its media goes on, and it comes back and
    publishes again (another camera size, to tell the feeds apart): the teacher's subscription,
    made once, carries the new feed. Then the pupil's page goes (Janus hangs its feed up)
    before it publishes again: Janus cannot switch a subscription of a hung-up feed without
    renegotiating, so the feed is announced ended, then new, and the teacher subscribes again."""
    live = sfu_live
    room = await make_room(live.http, live.services)
    teacher, pupil = [await connect(live, room, role) for role in ("teacher_admin", "pupil")]
    peers = [await SfuPeer.start(janus) for _ in range(2)]
    teacher_peer, pupil_peer = peers
    try:
        pupil_id = await teacher_receives_pupil(teacher, pupil, teacher_peer, pupil_peer)

        await pupil.close()
        back = await connect(live, room, "pupil")
        assert (await back.ok("rtc.join"))["rejoined"] is True
        await publish(back, pupil_peer, RETURNED_CAMERA, name="again")
        await until_received(teacher_peer, "pupil", RETURNED_CAMERA)
        await teacher.wait_for("rtc.feed", count=2, participant_id=pupil_id, live=True)
        assert [p for p in teacher.of_type("rtc.feed") if not p["live"]] == []
        # The old feed leaves the room; the new one, under the camera's second id, stays.
        await until_publishers(janus, await room_id(live, room.project_id), [SECOND + pupil_id])

        await pupil_peer.command("hangup", name="again")
        await teacher.wait_for("rtc.feed", participant_id=pupil_id, live=False)
        await _until_feeds(teacher, pupil_id, {"camera": False, "screen": False})
        await publish(back, pupil_peer, PUPIL_CAMERA, name="reloaded")
        await teacher.wait_for("rtc.feed", count=3, participant_id=pupil_id, live=True)
        await subscribe(teacher, teacher_peer, pupil_id, "reloaded")
        await until_received(teacher_peer, "reloaded", PUPIL_CAMERA)
    finally:
        for peer in peers:
            await peer.close()
