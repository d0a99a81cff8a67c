"""What one member can cost a node (issue 13): frames charged before they are parsed, bounded
nesting, refused input without a traceback, a cap on sockets, REST write budgets, and a reader
that stopped reading really cut off."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import struct

import websockets

from tests.chat.test_chat import connect, token
from tests.documents.test_documents import new_doc
from tests.support.forums import Forums
from tests.support.live import HubClient, Live, serve
from tests.support.log_capture import recorded
from tests.support.room import make_room
from tests.support.waiting import WAIT
from tests.support.yjs_client import YjsClient
from twinspace_rt.settings import Settings


async def test_frames_are_charged_by_size_before_they_are_parsed(settings: Settings) -> None:
    tight = settings.model_copy(
        update={
            "ws_read_bytes_per_second": 1024,
            "ws_read_bytes_burst": 65536,
            "chat_rate_burst": 5,
        }
    )
    async with serve(tight) as live:
        room = await make_room(live.http, live.services)
        client = await connect(live, room, "pupil")
        garbage = "x" * 40000
        await client.socket.send(garbage)
        await client.socket.send(garbage)
        first, second = await client.wait_for("error", count=2)
        assert first["code"] == "invalid_json"
        # Not parsed at all: the frame's bytes were over the budget.
        assert second["code"] == "rate_limited" and second["retry_after"] >= 1, second
        for _ in range(10):
            await client.socket.send(garbage)
        assert await client.closed() == 4429


async def test_deep_nesting_surrogates_and_bad_utf8_are_refused_without_traceback(
    live: Live,
) -> None:
    room = await make_room(live.http, live.services)
    client = await connect(live, room, "pupil")
    with recorded() as log:
        deep = '{"type":"ping","id":"d","x":' + "[" * 5000 + "]" * 5000 + "}"
        await client.socket.send(deep)
        [refused] = await client.wait_for("error")
        assert refused["code"] == "validation_failed" and "16 levels" in refused["message"]
        # Brackets inside strings are text, not nesting.
        await client.ok("chat.send", channel="general", text="[" * 3000, key="brackets")
        # A lone surrogate: in the id it cannot be echoed; in the text it cannot be stored.
        await client.socket.send('{"type":"ping","id":"\\ud800"}')
        await client.wait_for("error", count=2)
        assert client.of_type("error")[1]["code"] == "validation_failed"
        assert client.of_type("error")[1]["id"] is None
        await client.socket.send(
            '{"type":"chat.send","id":"s1","channel":"general","text":"a\\udc00","key":"s"}'
        )
        # NUL: PostgreSQL text cannot hold it.
        await client.socket.send(
            '{"type":"chat.send","id":"s2","channel":"general","text":"a\\u0000","key":"z"}'
        )
        pair = await client.request("chat.send", channel="general", text="\U0001f600", key="pair")
        assert pair["type"] == "ack", "a valid surrogate pair is one character"
        await client.ok("ping")
        assert client.close_code is None
        unstorable = [p for p in client.pushes if p.get("id") in ("s1", "s2")]
        assert [p["code"] for p in unstorable] == ["validation_failed"] * 2
        # Invalid UTF-8 in a text frame: closed with 1007, as the WebSocket RFC says.
        await client.socket.send(b'{"type":"ping","id":"\xff\xfe"}', text=True)
        assert await client.closed() == 1007
        other = await connect(live, room, "teacher")
        await other.ok("ping")
    assert log.tracebacks() == []


async def test_a_member_holds_a_bounded_number_of_sockets(settings: Settings) -> None:
    capped = settings.model_copy(update={"ws_sockets_per_member": 2})
    async with serve(capped) as live:
        room = await make_room(live.http, live.services)
        await new_doc(live, room)
        first = await connect(live, room, "pupil")
        second = await YjsClient.connect(live.url, room.project_id, "story", token(room, "pupil"))
        async with asyncio.timeout(WAIT):
            await second.synced.wait()
        extra = await HubClient.connect(live.url, room.project_id, token(room, "pupil"))
        assert await extra.closed() == 4409
        assert [e["code"] for e in extra.of_type("error")] == ["too_many_sockets"]
        extra_doc = await YjsClient.connect(
            live.url, room.project_id, "story", token(room, "pupil")
        )
        assert await extra_doc.closed() == 4409
        # Another member is not affected.
        teacher = await connect(live, room, "teacher")
        await teacher.ok("ping")
        # A socket that goes frees its place.
        await first.close()
        async with asyncio.timeout(WAIT):
            while True:
                again = await HubClient.connect(live.url, room.project_id, token(room, "pupil"))
                if await _open_or_refused(again):
                    break
        await again.ok("ping")


async def _open_or_refused(client: HubClient) -> bool:
    """True once the server greets the socket; False if it refused it (the place is not free
    yet)."""
    async with asyncio.timeout(WAIT):
        while not client.of_type("presence.state"):
            if client.close_code is not None or client._reader.done():
                return False
            await asyncio.sleep(0.02)
    return True


async def test_rest_writes_have_a_budget_per_member(settings: Settings) -> None:
    # make_room spends six of the administrator's writes; nothing refills during the test.
    budget = settings.model_copy(
        update={"rest_write_rate_per_second": 0.001, "rest_write_burst": 10}
    )
    async with serve(budget) as live:
        room = await make_room(live.http, live.services)
        f = Forums(live.http, room)
        thread_id = (await f.thread(await f.forum()))["thread"]["id"]
        for i in range(10):
            await f.reply(thread_id, "pupil", f"reply {i}")
        refused = await f.call("pupil", "POST", f"/threads/{thread_id}/posts", {"body": "11"})
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        # Reading is not a write, and other members keep their own budgets.
        assert (await f.call("pupil", "GET", f"/threads/{thread_id}")).status_code == 200
        await f.reply(thread_id, "teacher", "still mine to spend")
        posts = (await f.ok("teacher", "GET", f"/threads/{thread_id}/posts", limit=50))["posts"]
        assert "11" not in [p["body"] for p in posts], "the refused reply was not stored"
        openapi = (await live.http.get("/openapi.json")).json()
        post = openapi["paths"]["/api/projects/{project_id}/threads/{thread_id}/posts"]["post"]
        assert "rate_limited" in post["responses"]["429"]["description"]


def _tcp_state(sock: socket.socket) -> int:
    """The kernel's TCP state of a socket (Linux ``tcp_info.tcpi_state``)."""
    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    return int(struct.unpack("B", info[:1])[0])


TCP_ESTABLISHED = 1


async def test_a_reader_that_never_reads_is_really_cut_off(settings: Settings) -> None:
    small = settings.model_copy(
        update={"ws_send_buffer_bytes": 65536, "ws_close_grace_seconds": 0.5}
    )
    async with serve(small) as live:
        room = await make_room(live.http, live.services)
        teacher = await connect(live, room, "teacher")
        url = (
            live.url.replace("http://", "ws://")
            + f"/ws/projects/{room.project_id}?token={token(room, 'pupil')}"
        )
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", int(live.url.rsplit(":", 1)[1])))
        sock.setblocking(False)
        stalled = await websockets.connect(url, max_queue=1, sock=sock)
        stalled.transport.pause_reading()
        await stalled.send(
            json.dumps({"type": "chat.subscribe", "id": "s", "channels": {"general": None}})
        )
        room_here = live.services.hub.rooms[room.project_id]
        async with asyncio.timeout(WAIT):
            while not any(c.cursors for c in room_here.connections.values()):
                await asyncio.sleep(0.02)
        big = secrets.token_hex(1950)
        sent = 0
        async with asyncio.timeout(WAIT):
            while len(room_here.connections) == 2 and sent < 3000:
                await teacher.ok(
                    "chat.send", channel="general", text=f"{sent} {big}", key=f"{sent}"
                )
                sent += 1
        assert len(room_here.connections) == 1, "the stalled socket was dropped from the room"
        # It still has not read a byte: the server must not keep its connection open behind
        # the unsent frames (and the close frame after them) for ever.
        async with asyncio.timeout(WAIT):
            while _tcp_state(sock) == TCP_ESTABLISHED:
                await asyncio.sleep(0.05)
        await teacher.ok("ping")
        stalled.transport.abort()


async def test_numbers_past_the_database_columns_are_refused(live: Live) -> None:
    """Found by the fuzzer: ids and change numbers past the INTEGER columns reached the
    database and failed there, with a traceback."""
    room = await make_room(live.http, live.services)
    client = await connect(live, room, "teacher_admin")
    huge = 2**63
    with recorded() as log:
        for kind, fields in (
            ("chat.mute", {"user_id": huge, "minutes": 1}),
            ("chat.mute", {"user_id": 2**31, "minutes": 1}),
            ("chat.subscribe", {"channels": {"general": huge}}),
            ("chat.read", {"channel": "general", "seq": 2**31}),
            ("chat.edit", {"channel": "general", "seq": 2**40, "text": "x"}),
            ("forum.subscribe", {"streams": {"forum": huge}}),
            ("rtc.admit", {"participant_id": 2**40}),
        ):
            reply = await client.request(kind, **fields)
            assert reply["code"] == "validation_failed", (kind, reply)
        await client.ok("ping")
    assert log.tracebacks() == []
