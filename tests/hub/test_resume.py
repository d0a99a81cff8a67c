"""Resuming after a dropped connection, presence, and a slow reader that must not block a room."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket

import websockets

from tests.chat.test_chat import connect, token
from tests.support.forums import Forums
from tests.support.live import Live, serve
from tests.support.room import make_room
from tests.support.waiting import WAIT, eventually
from twinspace_rt.hub.connection import StreamCursor
from twinspace_rt.settings import Settings
from twinspace_rt.ws.close_codes import CloseCode
from twinspace_rt.ws.transport import OutFrame


async def test_missed_500_messages_replay_exactly_in_order(live: Live) -> None:
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher")
    pupil = await connect(live, room, "pupil")
    await pupil.ok("chat.subscribe", channels={"general": 0})
    await teacher.ok("chat.send", channel="general", text="before", key="b")
    [seen] = await pupil.wait_for("chat.message")
    last_seq = seen["message"]["version"]
    await pupil.close()
    for i in range(500):
        await teacher.ok("chat.send", channel="general", text=f"missed {i}", key=f"m{i}")
    back = await connect(live, room, "pupil")
    reply = await back.ok("chat.subscribe", channels={"general": last_seq})
    assert reply["channels"]["general"] == {
        "recovered": True,
        "reason": None,
        "replayed": 500,
        "last_seq": 501,
    }
    replayed = back.of_type("chat.message")
    assert [m["message"]["text"] for m in replayed] == [f"missed {i}" for i in range(500)]
    assert [m["message"]["seq"] for m in replayed] == list(range(2, 502))
    # And it continues live, without a repeat.
    await teacher.ok("chat.send", channel="general", text="live again", key="live")
    await back.wait_for("chat.message", count=501)
    assert back.of_type("chat.message")[-1]["message"]["text"] == "live again"
    assert len(back.of_type("chat.message")) == 501


async def test_messages_sent_during_the_replay_are_neither_lost_nor_repeated(live: Live) -> None:
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher")
    for i in range(200):
        await teacher.ok("chat.send", channel="general", text=f"old {i}", key=f"o{i}")
    pupil = await connect(live, room, "pupil")

    async def keep_sending() -> None:
        for i in range(100):
            await teacher.ok("chat.send", channel="general", text=f"new {i}", key=f"n{i}")

    sender = asyncio.create_task(keep_sending())
    await pupil.ok("chat.subscribe", channels={"general": 0})
    await sender
    await pupil.wait_for("chat.message", count=300)
    # A fence: a repeat of any of the 300 would reach the pupil before a later message.
    await teacher.ok("chat.send", channel="general", text="fence", key="fence")
    await pupil.wait_for("chat.message", count=301)
    seqs = [m["message"]["seq"] for m in pupil.of_type("chat.message")]
    assert sorted(seqs) == list(range(1, 302)), "every message exactly once"


async def test_a_gap_beyond_retention_is_reported(settings: Settings) -> None:
    async with serve(settings.model_copy(update={"chat_resume_max": 10})) as live:
        room = await make_room(live.http, live.services)
        teacher = await connect(live, room, "teacher")
        for i in range(11):
            await teacher.ok("chat.send", channel="general", text=f"{i}", key=f"{i}")
        pupil = await connect(live, room, "pupil")
        reply = await pupil.ok("chat.subscribe", channels={"general": 0, "pupils": 99})
        assert reply["channels"]["general"] == {
            "recovered": False,
            "reason": "too_far_behind",
            "replayed": 0,
            "last_seq": 11,
        }
        assert reply["channels"]["pupils"]["reason"] == "unknown_position"
        assert pupil.of_type("chat.message") == []
        await teacher.ok("chat.send", channel="general", text="live", key="live")
        [live_push] = await pupil.wait_for("chat.message")
        assert live_push["message"]["seq"] == 12


async def test_presence_join_update_leave_and_devices(live: Live) -> None:
    room = await make_room(live.http, live.services)
    story = {"name": "story", "title": "Our story", "kind": "richtext"}
    await Forums(live.http, room).ok("teacher", "POST", "/docs", story)
    teacher = await connect(live, room, "teacher")
    [state] = teacher.of_type("presence.state")
    assert [u["user_id"] for u in state["users"]] == [room.user_ids["teacher"]]
    phone = await connect(live, room, "pupil")
    [joined] = await teacher.wait_for("presence.join")
    assert joined["user"]["user_id"] == room.user_ids["pupil"]
    assert joined["user"]["role"] == "pupil"
    tablet = await connect(live, room, "pupil")
    [state] = tablet.of_type("presence.state")
    pupil_entry = [u for u in state["users"] if u["user_id"] == room.user_ids["pupil"]][0]
    assert len(pupil_entry["devices"]) == 2, "one user on two devices is one entry"
    await phone.ok("presence.update", status="away", location={"kind": "doc", "ref": "story"})
    updates = await teacher.wait_for("presence.update", count=2)
    latest = updates[-1]["user"]
    assert latest["status"] == "active", "still active on the tablet"
    assert {"kind": "doc", "ref": "story"} in [d["location"] for d in latest["devices"]]
    await phone.close()
    await tablet.close()
    [left] = await teacher.wait_for("presence.leave")
    assert left["user"]["user_id"] == room.user_ids["pupil"]
    bad = await teacher.request("presence.update", status="sleeping")
    assert bad["code"] == "validation_failed"


async def test_typing_is_relayed_to_channel_readers_only(live: Live) -> None:
    room = await make_room(live.http, live.services)
    pupil = await connect(live, room, "pupil")
    friend = await connect(live, room, "pupil_admin")
    teacher = await connect(live, room, "teacher")
    expert = await connect(live, room, "expert")
    for client in (friend, teacher):
        await client.ok("chat.subscribe", channels={"pupils": None})
    await expert.ok("chat.subscribe", channels={"general": None})
    await pupil.ok("typing", channel="pupils")
    for client in (friend, teacher):
        [typing] = await client.wait_for("typing")
        assert typing["user_id"] == room.user_ids["pupil"] and typing["channel"] == "pupils"
    await expert.ok("ping")
    assert expert.of_type("typing") == [] and pupil.of_type("typing") == []


async def test_a_reader_that_stops_reading_is_closed_and_the_room_goes_on(
    settings: Settings,
) -> None:
    # No server ping in the test's time: an unanswered ping would end the stalled socket too
    # (with no close code), and on a busy machine it came first once.
    small = settings.model_copy(update={"ws_send_buffer_bytes": 65536, "ws_ping_seconds": 3600})
    async with serve(small) as live:
        room = await make_room(live.http, live.services)
        teacher = await connect(live, room, "teacher")
        healthy = await connect(live, room, "pupil_admin")
        await healthy.ok("chat.subscribe", channels={"general": None})
        url = (
            live.url.replace("http://", "ws://")
            + f"/ws/projects/{room.project_id}?token={token(room, 'pupil')}"
        )
        # A tablet that stopped reading: tiny receive buffer, transport paused.
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", int(live.url.rsplit(":", 1)[1])))
        sock.setblocking(False)
        # No keepalive of its own: its pings would go unanswered while it does not read.
        stalled = await websockets.connect(url, max_queue=1, sock=sock, ping_interval=None)
        stalled_transport = stalled.transport
        stalled_transport.pause_reading()
        await stalled.send(
            json.dumps({"type": "chat.subscribe", "id": "s", "channels": {"general": None}})
        )
        room_here = live.services.hub.rooms[room.project_id]
        pupil_id = room.user_ids["pupil"]
        await eventually(
            lambda: any(c.cursors for c in room_here.connections.values() if c.user_id == pupil_id)
        )
        [stalled_here] = [c for c in room_here.connections.values() if c.user_id == pupil_id]
        # Random text: compression must not shrink what piles up for the stalled socket.
        big = secrets.token_hex(1950)
        sent = 0
        # Send until the server gives up on the stalled socket (bounded in count and time).
        async with asyncio.timeout(WAIT):
            while len(room_here.connections) == 3 and sent < 3000:
                await teacher.ok(
                    "chat.send", channel="general", text=f"{sent} {big}", key=f"k{sent}"
                )
                sent += 1
        assert len(room_here.connections) == 2, "the stalled socket was dropped"
        assert stalled_here.close_code == CloseCode.too_slow
        await healthy.wait_for("chat.message", count=sent)
        # Its close frame waits behind what it did not read. Whether it still arrives depends
        # on how long the kernel keeps a closed socket for a peer that does not read (a busy
        # machine can outlast it): the connection ends either way, with 4408 when it arrives.
        stalled_transport.resume_reading()
        async with asyncio.timeout(WAIT):
            try:
                while True:
                    await stalled.recv()
            except websockets.ConnectionClosed as closed:
                assert closed.rcvd is None or closed.rcvd.code == CloseCode.too_slow


async def test_unsubscribe_stops_a_channel_only(live: Live) -> None:
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher")
    pupil = await connect(live, room, "pupil")
    await pupil.ok("chat.subscribe", channels={"general": None, "pupils": None})
    await pupil.ok("chat.unsubscribe", channels=["general"])
    await teacher.ok("chat.send", channel="general", text="not for you now", key="g")
    await pupil.ok("chat.send", channel="pupils", text="still here", key="p")
    [kept] = await pupil.wait_for("chat.message")
    assert kept["message"]["channel"] == "pupils"
    await pupil.ok("ping")
    assert len(pupil.of_type("chat.message")) == 1


def test_a_cursor_counts_every_change_exactly_once() -> None:
    """Live changes may arrive out of order across nodes; a replay may overlap them."""
    cursor = StreamCursor(name="general", readable=lambda member: True, replaying=False)
    assert [cursor.accept(v) for v in (1, 3, 2, 3, 4)] == [True, True, True, False, True]
    assert (cursor.contiguous, cursor.ahead) == (4, set())
    assert cursor.accept(7) and not cursor.accept(7)
    cursor.replaying = True
    cursor.pending += [(v, OutFrame(name)) for v, name in ((6, "six"), (7, "seven"), (9, "nine"))]
    # The replay covered everything up to 8 (5, 6 and 8 among them); 9 is still new.
    assert [frame.payloads for frame in cursor.finish_replay(8)] == [("nine",)]
    assert (cursor.contiguous, cursor.ahead, cursor.replaying) == (9, set(), False)


async def test_messages_sent_just_before_closing_are_stored_and_delivered(live: Live) -> None:
    """The sender's own copy of its first message reaches a socket whose peer has left; that
    used to end its reader, and the messages still waiting to be read were lost."""
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher")
    await teacher.ok("chat.subscribe", channels={"general": None})
    for attempt in range(3):
        leaver = await connect(live, room, "pupil")
        await leaver.ok("chat.subscribe", channels={"general": None})
        for number in range(3):
            await leaver.socket.send(
                json.dumps(
                    {
                        "type": "chat.send",
                        "id": f"{attempt}.{number}",
                        "channel": "general",
                        "text": f"{attempt}.{number}",
                        "key": f"{attempt}.{number}",
                    }
                )
            )
        await leaver.close()
    arrived = await teacher.wait_for("chat.message", count=9)
    assert sorted(m["message"]["text"] for m in arrived) == sorted(
        f"{a}.{n}" for a in range(3) for n in range(3)
    )
    history = await teacher.ok("chat.history", channel="general", limit=50)
    assert len(history["messages"]) == 9
