"""Teachers' controls enforced at Janus, on one node and across two.

A mute, a lock and a removal are not requests to the pupil's client only: Janus stops
forwarding what is muted (VideoRoom's ``moderate``), refuses what is locked, and kicks who is
removed. The media peers show it: what stops arriving at a subscriber while the rest goes on.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from signaling.janus import JanusError
from signaling.sfu import Sfu
from signaling.sfu_rooms import feed_id
from tests.chat.test_chat import connect
from tests.support.janus import Janus
from tests.support.live import Live, serve
from tests.support.room import make_room
from tests.support.services import require_shared_redis
from tests.support.sfu_peer import SfuPeer
from tests.support.waiting import eventually
from tests.video.sfu_support import (
    PUPIL_CAMERA,
    TEACHER_CAMERA,
    flowing,
    janus,
    publish,
    publishers,
    room_id,
    sfu_live,
    stopped,
    subscribe,
    teacher_and_pupil,
    teacher_receives_pupil,
    until_publishers,
    until_received,
    with_janus,
)
from twinspace_rt.settings import Settings

__all__ = ["janus", "sfu_live"]

# The camera of a pupil's page after it came back: another size than before.
RETURNED_CAMERA = (128, 96)

# Video frames come at 30 a second, audio frames at 50: a second of either witnesses that the
# connection is alive while the other kind stays away.
VIDEO_WITNESS, AUDIO_WITNESS = 30, 50


async def test_mute_and_locks_are_enforced_at_janus(sfu_live: Live, janus: Janus) -> None:
    live = sfu_live
    room = await make_room(live.http, live.services)
    async with teacher_and_pupil(live, room, janus) as (teacher, pupil, teacher_peer, pupil_peer):
        pupil_id = await teacher_receives_pupil(teacher, pupil, teacher_peer, pupil_peer)

        # Muted: Janus stops forwarding the pupil's microphone; the camera goes on.
        await teacher.ok("rtc.mute", participant_id=pupil_id)
        await pupil.wait_for("rtc.muted", mic=True)
        await stopped(teacher_peer, "pupil", "audio", VIDEO_WITNESS)
        # No lock holds the microphone: the pupil turns it on again, and it is heard.
        await pupil.ok("rtc.media", mic=True)
        await flowing(teacher_peer, "pupil", "audio")

        # Cameras locked: the published video stops, and nothing brings a camera back.
        await teacher.ok("rtc.lock", camera=True)
        await stopped(teacher_peer, "pupil", "video", AUDIO_WITNESS)
        assert (await pupil.request("rtc.media", camera=True))["code"] == "forbidden"
        offer = await pupil_peer.command("publish", name="again", width=64, height=48)
        description = {"type": "offer", "sdp": offer["sdp"]}
        assert (await pupil.request("rtc.publish", description=description))["code"] == "forbidden"
        await flowing(teacher_peer, "pupil", "audio")
        # Unlocked, the pupil's camera is let through once the pupil turns it on.
        await teacher.ok("rtc.lock", camera=False)
        await pupil.ok("rtc.media", camera=True)
        await flowing(teacher_peer, "pupil", "video")


async def test_a_muted_pupil_cannot_lift_the_mute_by_publishing_again(
    sfu_live: Live, janus: Janus
) -> None:
    """Muted, the pupil's client publishes a new feed (as after a dropped connection) without
    turning the microphone on: Janus holds that feed's audio back too, until the pupil turns
    the microphone on as the mute allows."""
    live = sfu_live
    room = await make_room(live.http, live.services)
    async with teacher_and_pupil(live, room, janus) as (teacher, pupil, teacher_peer, pupil_peer):
        pupil_id = await teacher_receives_pupil(teacher, pupil, teacher_peer, pupil_peer)
        await pupil.ok("rtc.media", mic=True, camera=True)
        await teacher.ok("rtc.mute", participant_id=pupil_id, mic=True, camera=False)
        await stopped(teacher_peer, "pupil", "audio", VIDEO_WITNESS)

        await pupil.ok("rtc.unpublish")
        await teacher.wait_for("rtc.feed", participant_id=pupil_id, live=False)
        await publish(pupil, pupil_peer, PUPIL_CAMERA, name="again")
        await teacher.wait_for("rtc.feed", count=2, participant_id=pupil_id, live=True)
        await subscribe(teacher, teacher_peer, pupil_id, "again")
        await stopped(teacher_peer, "again", "audio", VIDEO_WITNESS)

        await pupil.ok("rtc.media", mic=True)
        await flowing(teacher_peer, "again", "audio")


@pytest.fixture
async def two_nodes(settings: Settings, janus: Janus) -> Any:
    """Two nodes sharing the database, Redis and one Janus."""
    shared = (await require_shared_redis(), f"test-{uuid.uuid4().hex[:8]}")
    node = with_janus(settings, janus).model_copy(
        update={"redis_url": shared[0], "redis_prefix": shared[1]}
    )
    async with serve(node) as a, serve(node) as b:
        yield a, b


def _sfu(node: Live) -> Sfu:
    found = node.services.hub.state["video.sfu"]
    assert isinstance(found, Sfu)
    return found


async def test_removal_mute_and_end_reach_the_node_holding_the_handles(
    two_nodes: tuple[Live, Live], janus: Janus
) -> None:
    """The teacher is on node A; the pupils' handles live on node B."""
    a, b = two_nodes
    room = await make_room(a.http, a.services)
    teacher = await connect(a, room, "teacher_admin")
    pupil = await connect(b, room, "pupil")
    other = await connect(b, room, "pupil_admin")
    peers = [await SfuPeer.start(janus) for _ in range(3)]
    teacher_peer, pupil_peer, other_peer = peers
    try:
        await teacher.ok("rtc.start", max_participants=30)
        teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
        pupil_id = (await pupil.ok("rtc.join"))["participant_id"]
        await other.ok("rtc.join")
        await publish(teacher, teacher_peer, TEACHER_CAMERA)
        await publish(pupil, pupil_peer, PUPIL_CAMERA)
        await teacher.wait_for("rtc.feed", participant_id=pupil_id, live=True)
        await other.wait_for("rtc.feed", participant_id=teacher_id, live=True)
        await subscribe(teacher, teacher_peer, pupil_id, "pupil")
        for peer, client in ((pupil_peer, pupil), (other_peer, other)):
            await subscribe(client, peer, teacher_id, "teacher")
            await until_received(peer, "teacher", TEACHER_CAMERA)
        await until_received(teacher_peer, "pupil", PUPIL_CAMERA)
        janus_room = await room_id(a, room.project_id)
        assert _sfu(b).holds(janus_room) == 4  # two seats, two subscriptions

        # A mute sent to node A is applied by node B, which knows the pupil's streams.
        await teacher.ok("rtc.mute", participant_id=pupil_id)
        await stopped(teacher_peer, "pupil", "audio", VIDEO_WITNESS)

        # Removed on node A: Janus kicks the feed, node B lets go of the pupil's handles.
        await teacher.ok("rtc.remove", participant_id=pupil_id)
        await pupil.wait_for("rtc.removed", participant_id=pupil_id)
        await other.wait_for("rtc.feed", participant_id=pupil_id, source="camera", live=False)
        await until_publishers(janus, janus_room, [teacher_id])
        await eventually(lambda: _sfu(b).holds(janus_room) == 2)

        # Ended on node A: the room is destroyed at Janus and node B holds nothing of it.
        await teacher.ok("rtc.end")
        await eventually(lambda: _sfu(b).holds(janus_room) == 0)
        with pytest.raises(JanusError) as gone:
            await publishers(janus, janus_room)
        assert gone.value.code == 426
    finally:
        for peer in peers:
            await peer.close()


async def test_a_seat_given_up_after_its_grace_period_leaves_janus(
    settings: Settings, janus: Janus
) -> None:
    short = with_janus(settings, janus).model_copy(update={"rtc_rejoin_grace_seconds": 0.5})
    async with serve(short) as live:
        room = await make_room(live.http, live.services)
        teacher = await connect(live, room, "teacher_admin")
        pupil = await connect(live, room, "pupil")
        silent = await connect(live, room, "pupil_admin")
        peer = await SfuPeer.start(janus)
        try:
            await teacher.ok("rtc.start", max_participants=30)
            await teacher.ok("rtc.join")
            pupil_id = (await pupil.ok("rtc.join"))["participant_id"]
            silent_id = (await silent.ok("rtc.join"))["participant_id"]
            await publish(pupil, peer, PUPIL_CAMERA)
            await teacher.wait_for("rtc.feed", participant_id=pupil_id, live=True)
            janus_room = await room_id(live, room.project_id)
            # Removing someone who never reached Janus has nothing to kick there, and works.
            await teacher.ok("rtc.remove", participant_id=silent_id)
            # The pupil's socket goes and does not come back within the grace period: its
            # feed leaves Janus, and the room is told.
            await pupil.close()
            await teacher.wait_for("rtc.feed", participant_id=pupil_id, live=False)
            assert _sfu(live).holds(janus_room) == 0

            await until_publishers(janus, janus_room, [])
        finally:
            await peer.close()


async def test_a_pupil_back_through_another_node_reaches_the_same_subscriptions(
    two_nodes: tuple[Live, Live], janus: Janus
) -> None:
    """Node B holds the pupil's feed; the pupil's socket drops, it comes back within the grace
    period through node A and publishes again (another camera, so its frames tell the two
    feeds apart). The teacher's subscription, made once, carries the new feed: no new
    subscription, no feed announced ended, and B lets go of the old one."""
    a, b = two_nodes
    room = await make_room(a.http, a.services)
    teacher = await connect(a, room, "teacher_admin")
    pupil = await connect(b, room, "pupil")
    peers = [await SfuPeer.start(janus) for _ in range(2)]
    teacher_peer, pupil_peer = peers
    try:
        pupil_id = await teacher_receives_pupil(teacher, pupil, teacher_peer, pupil_peer)
        janus_room = await room_id(a, room.project_id)
        assert _sfu(b).holds(janus_room) == 1

        await pupil.close()
        back = await connect(a, room, "pupil")
        rejoined = await back.ok("rtc.join")
        assert (rejoined["participant_id"], rejoined["rejoined"]) == (pupil_id, True)
        await publish(back, pupil_peer, RETURNED_CAMERA, name="again")
        await until_received(teacher_peer, "pupil", RETURNED_CAMERA)
        # Announced again, as live (the state never said otherwise), and never as ended.
        await teacher.wait_for("rtc.feed", count=2, participant_id=pupil_id, live=True)
        assert [p for p in teacher.of_type("rtc.feed") if not p["live"]] == []
        assert _sfu(a).holds(janus_room) == 3  # the teacher's seat and subscription, the new feed
        await eventually(lambda: _sfu(b).holds(janus_room) == 0)
        await until_publishers(janus, janus_room, [feed_id(pupil_id, "camera", second=True)])
        await flowing(teacher_peer, "pupil", "video")
    finally:
        for peer in peers:
            await peer.close()


async def test_a_feed_published_again_after_unpublishing_can_be_subscribed(
    sfu_live: Live, janus: Janus
) -> None:
    """A camera turned off (`rtc.unpublish`) and on again (`rtc.publish`) on the same seat: the
    new feed is announced once Janus has it up, and a subscriber receives it."""
    live = sfu_live
    room = await make_room(live.http, live.services)
    async with teacher_and_pupil(live, room, janus) as (teacher, pupil, teacher_peer, pupil_peer):
        await teacher.ok("rtc.start", max_participants=30)
        pupil_id = (await pupil.ok("rtc.join"))["participant_id"]
        teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
        await publish(teacher, teacher_peer, TEACHER_CAMERA)
        await pupil.wait_for("rtc.feed", participant_id=teacher_id, live=True)
        await subscribe(pupil, pupil_peer, teacher_id, "teacher")
        await publish(pupil, pupil_peer, PUPIL_CAMERA)
        await teacher.wait_for("rtc.feed", participant_id=pupil_id, live=True)
        await subscribe(teacher, teacher_peer, pupil_id, "pupil")
        await until_received(teacher_peer, "pupil", PUPIL_CAMERA)

        # The pupil's camera off: what the pupil receives goes on.
        await pupil.ok("rtc.unpublish")
        await teacher.wait_for("rtc.feed", participant_id=pupil_id, live=False)
        await publish(pupil, pupil_peer, PUPIL_CAMERA, name="again")
        await teacher.wait_for("rtc.feed", count=2, participant_id=pupil_id, live=True)
        await subscribe(teacher, teacher_peer, pupil_id, "again")
        await until_received(teacher_peer, "again", PUPIL_CAMERA)
        await flowing(pupil_peer, "teacher", "video")
