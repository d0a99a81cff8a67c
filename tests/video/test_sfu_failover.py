"""Several Janus instances: sessions placed by load, and moved when their instance dies."""

from __future__ import annotations

import os
import signal
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from signaling.state import running
from tests.chat.test_chat import connect
from tests.support.janus import Janus, running_januses
from tests.support.live import Live, serve
from tests.support.log_capture import recorded
from tests.support.room import make_room
from tests.support.sfu_peer import SfuPeer
from tests.support.waiting import WAIT, eventually
from tests.video.sfu_support import (
    TEACHER_CAMERA,
    janus,
    publish,
    publishers,
    room_id,
    sfu_live,
    subscribe,
    until_received,
    with_janus,
)
from twinspace_rt.settings import Settings

__all__ = ["janus", "sfu_live"]


@pytest.fixture
async def two_januses() -> AsyncIterator[tuple[Janus, ...]]:
    async with running_januses(2) as instances:
        yield instances


@pytest.fixture
async def live_on_two(settings: Settings, two_januses: tuple[Janus, ...]) -> AsyncIterator[Live]:
    first, second = two_januses
    configured = settings.model_copy(
        update={
            "rtc_janus_socket": f"{first.socket_path},{second.socket_path}",
            "rtc_janus_api_secret": SecretStr(first.api_secret),
            "rtc_janus_admin_key": SecretStr(first.admin_key),
        }
    )
    async with serve(configured) as live:
        yield live


async def _server_of(live: Live, project_id: int) -> str | None:
    async with live.services.db.reader() as tx:
        video = await running(tx, project_id)
    assert video is not None
    return video.media_server


async def test_sessions_are_placed_by_load_and_survive_their_janus(
    live_on_two: Live, two_januses: tuple[Janus, ...]
) -> None:
    live = live_on_two
    first, second = two_januses
    rooms = [await make_room(live.http, live.services, prefix=p) for p in ("a", "b", "c")]
    teachers = [await connect(live, room, "teacher_admin") for room in rooms]
    pupil = await connect(live, rooms[0], "pupil")
    peers = [await SfuPeer.start(first) for _ in range(2)]
    teacher_peer, pupil_peer = peers
    try:
        # The first class fills the first instance; the next class goes to the empty one.
        await teachers[0].ok("rtc.start", max_participants=30)
        teacher_id = (await teachers[0].ok("rtc.join"))["participant_id"]
        await pupil.ok("rtc.join")
        assert await _server_of(live, rooms[0].project_id) == first.socket_path
        await teachers[1].ok("rtc.start", max_participants=30)
        assert await _server_of(live, rooms[1].project_id) == second.socket_path
        await teachers[1].ok("rtc.join")
        await publish(teachers[0], teacher_peer, TEACHER_CAMERA)
        await pupil.wait_for("rtc.feed", participant_id=teacher_id, live=True)
        await subscribe(pupil, pupil_peer, teacher_id, "before")
        await until_received(pupil_peer, "before", TEACHER_CAMERA)

        # The first instance dies: its class is moved to the other one and told to restart.
        first.kill()
        assert first.process is not None
        await first.process.wait()
        for client in (teachers[0], pupil):
            await client.wait_for("rtc.media_restart", timeout=WAIT)
        assert await _server_of(live, rooms[0].project_id) == second.socket_path
        # The other class was not touched.
        assert teachers[1].of_type("rtc.media_restart") == []

        # The teacher publishes again and the pupil receives the camera from the new instance.
        await publish(teachers[0], teacher_peer, TEACHER_CAMERA, name="again")
        await pupil.wait_for("rtc.feed", count=2, participant_id=teacher_id, live=True)
        await subscribe(pupil, pupil_peer, teacher_id, "after")
        await until_received(pupil_peer, "after", TEACHER_CAMERA)
        assert await publishers(second, await room_id(live, rooms[0].project_id)) == [teacher_id]

        # With one instance left, new classes go there; with none, none starts.
        await teachers[2].ok("rtc.start", max_participants=30)
        assert await _server_of(live, rooms[2].project_id) == second.socket_path
        await teachers[2].ok("rtc.end")
        second.kill()
        assert second.process is not None
        await second.process.wait()
        reply = await teachers[2].request("rtc.start", max_participants=30)
        assert reply["code"] == "media_unavailable", reply
    finally:
        for peer in peers:
            await peer.close()


async def test_a_session_that_names_no_instance_runs_on_the_first(
    sfu_live: Live, janus: Janus
) -> None:
    """Sessions started before sessions named their Janus instance (`media_server` null after
    the upgrade) go on, on the first instance configured."""
    live = sfu_live
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher_admin")
    peer = await SfuPeer.start(janus)
    try:
        await teacher.ok("rtc.start", max_participants=30)
        teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
        async with live.services.db.transaction() as tx:
            video = await running(tx, room.project_id)
            assert video is not None and video.media_server == janus.socket_path
            video.media_server = None
            tx.add(video)
        await publish(teacher, peer, TEACHER_CAMERA)
        await teacher.wait_for("rtc.feed", participant_id=teacher_id, live=True)
        assert await publishers(janus, await room_id(live, room.project_id)) == [teacher_id]
    finally:
        await peer.close()


async def test_a_janus_that_stops_answering_is_media_unavailable_until_it_answers(
    settings: Settings, janus: Janus
) -> None:
    """A Janus that hangs (here: stopped) keeps its socket open, so only a bound on its answer
    frees the request: the client hears `media_unavailable` and may try again. A keepalive
    left unanswered meanwhile does not give the Janus session up (Janus would end it, and every
    handle in it, once it answers again): the same session carries the publish that follows."""
    hurried = with_janus(settings, janus).model_copy(
        update={"rtc_janus_reply_seconds": 1, "rtc_janus_keepalive_seconds": 0.5}
    )
    async with serve(hurried) as live:
        room = await make_room(live.http, live.services)
        teacher = await connect(live, room, "teacher_admin")
        peer = await SfuPeer.start(janus)
        assert janus.process is not None
        links = live.services.hub.state["video.sfu"].links
        try:
            await teacher.ok("rtc.start", max_participants=30)
            teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
            session, _ = await links.connect(janus.socket_path)
            offer = await peer.command("publish", name="camera", width=64, height=48)
            description = {"type": "offer", "sdp": offer["sdp"]}
            with recorded() as log:
                os.kill(janus.process.pid, signal.SIGSTOP)
                try:
                    reply = await teacher.request("rtc.publish", description=description)
                    await eventually(
                        lambda: any(
                            "keepalive" in r.getMessage() or "lost" in r.getMessage()
                            for r in log.records
                        )
                    )
                finally:
                    os.kill(janus.process.pid, signal.SIGCONT)
            assert reply["code"] == "media_unavailable", reply

            await publish(teacher, peer, TEACHER_CAMERA, name="again")
            await teacher.wait_for("rtc.feed", participant_id=teacher_id, live=True)
            assert await publishers(janus, await room_id(live, room.project_id)) == [teacher_id]
            assert (await links.connect(janus.socket_path))[0] is session and session.alive
        finally:
            await peer.close()
