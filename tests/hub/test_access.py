"""Who may open a hub socket and what they may do there: close codes and refusals."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import websockets

from tests.chat.test_chat import connect, token
from tests.support.live import Closed, HubClient, Live, serve
from tests.support.log_capture import recorded
from tests.support.room import make_room
from tests.support.services import require_shared_redis
from tests.support.waiting import WAIT, eventually
from twinspace_rt.settings import Settings
from twinspace_rt.storage.models import User
from twinspace_rt.ws.transport import RedactTokens


async def refused(
    live: Live, project_id: int, token_value: str | None, headers: dict[str, str] | None = None
) -> tuple[int | None, dict]:
    client = await HubClient.connect(live.url, project_id, token_value, headers)
    code = await client.closed()
    [frame] = client.of_type("error")
    return code, frame


async def test_handshake_refusals_use_close_codes(live: Live, settings: Settings) -> None:
    room = await make_room(live.http, live.services, "a")
    other = await make_room(live.http, live.services, "b")
    code, frame = await refused(live, room.project_id, None)
    assert (code, frame["code"]) == (4401, "unauthenticated")
    code, frame = await refused(live, room.project_id, "garbage")
    assert (code, frame["code"]) == (4401, "token_invalid")
    now = datetime.now(UTC)
    expired = jwt.encode(
        {
            "iss": "twinspace-rt",
            "sub": str(room.user_ids["pupil"]),
            "gen": 0,
            "exp": now - timedelta(seconds=5),
        },
        settings.signing_key,
        algorithm="HS256",
    )
    code, frame = await refused(live, room.project_id, expired)
    assert (code, frame["code"]) == (4401, "token_expired")
    # A token for project A, used on project B.
    code, frame = await refused(live, other.project_id, token(room, "pupil"))
    assert (code, frame["code"]) == (4403, "forbidden")
    code, frame = await refused(live, 987654, token(room, "pupil"))
    assert (code, frame["code"]) == (4404, "not_found")


async def test_a_server_without_the_hub_frame_writer_says_so(settings: Settings) -> None:
    """`uvicorn app` instead of `twinspace-rt serve`: a clear close, not a silent hub."""
    async with serve(settings, stock_uvicorn=True) as live:
        room = await make_room(live.http, live.services)
        client = await HubClient.connect(live.url, room.project_id, token(room, "pupil"))
        assert await client.closed() == 1011
        assert "twinspace-rt serve" in client.close_reason


async def test_cross_origin_handshakes_are_refused(live: Live, settings: Settings) -> None:
    room = await make_room(live.http, live.services)
    code, frame = await refused(
        live, room.project_id, token(room, "pupil"), {"Origin": "https://evil.example"}
    )
    assert (code, frame["code"]) == (4403, "forbidden")
    host = live.url.removeprefix("http://")
    same = await HubClient.connect(
        live.url, room.project_id, token(room, "pupil"), {"Origin": f"http://{host}"}
    )
    await same.wait_for("presence.state")
    await same.close()
    async with serve(
        settings.model_copy(update={"allowed_origins": ["https://school.example"]})
    ) as other:
        room2 = await make_room(other.http, other.services, "r2")
        allowed = await HubClient.connect(
            other.url, room2.project_id, token(room2, "pupil"), {"Origin": "https://school.example"}
        )
        await allowed.wait_for("presence.state")
        await allowed.close()


async def test_bearer_header_works_too(live: Live) -> None:
    room = await make_room(live.http, live.services)
    url = live.url.replace("http://", "ws://") + f"/ws/projects/{room.project_id}"
    async with websockets.connect(url, additional_headers=room.headers["pupil"]) as socket:
        assert json.loads(await socket.recv())["type"] == "presence.state"


CHANNEL_RIGHTS = {
    # role: (channels it may read, channels it may write); teachers step in among pupils (17)
    "teacher_admin": ({"general", "teachers", "pupils"}, {"general", "teachers", "pupils"}),
    "teacher": ({"general", "teachers", "pupils"}, {"general", "teachers", "pupils"}),
    "expert": ({"general"}, {"general"}),
    "observer": ({"general"}, set()),
    "pupil_admin": ({"general", "pupils"}, {"general", "pupils"}),
    "pupil": ({"general", "pupils"}, {"general", "pupils"}),
}


async def test_every_role_against_every_channel(live: Live) -> None:
    room = await make_room(live.http, live.services)
    for role, (readable, writable) in CHANNEL_RIGHTS.items():
        client = await connect(live, room, role)
        listed = await client.ok("chat.channels")
        assert {c["name"] for c in listed["channels"]} == readable, role
        assert {c["name"] for c in listed["channels"] if c["writable"]} == writable, role
        for channel in ("general", "teachers", "pupils"):
            sub = await client.request("chat.subscribe", channels={channel: 0})
            history = await client.request("chat.history", channel=channel)
            sent = await client.request(
                "chat.send", channel=channel, text=f"{role} here", key=f"{role}-{channel}"
            )
            assert (sub["type"] == "ack") is (channel in readable), (role, channel)
            assert (history["type"] == "ack") is (channel in readable), (role, channel)
            assert (sent["type"] == "ack") is (channel in writable), (role, channel, sent)
            if sent["type"] == "error":
                assert sent["code"] == "forbidden"
        await client.close()


async def test_pupils_cannot_read_the_teachers_room(live: Live) -> None:
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher")
    pupil = await connect(live, room, "pupil")
    await teacher.ok("chat.send", channel="teachers", text="Parents' evening on Friday", key="x")
    for request in (
        {"type": "chat.subscribe", "channels": {"teachers": 0}},
        {"type": "chat.history", "channel": "teachers"},
        {"type": "typing", "channel": "teachers"},
    ):
        kind = request.pop("type")
        reply = await pupil.request(kind, **request)
        assert reply["type"] == "error" and reply["code"] == "forbidden"
    assert "Parents" not in json.dumps(pupil.pushes)


async def test_bad_frames(live: Live, settings: Settings) -> None:
    room = await make_room(live.http, live.services)
    client = await connect(live, room, "pupil")
    await client.socket.send("{not json")
    await client.socket.send("[1,2]")
    await client.socket.send(json.dumps({"type": "chat.fly", "id": "x1"}))
    await client.socket.send(json.dumps({"type": "chat.send", "id": "x2", "channel": "general"}))
    await client.socket.send(
        json.dumps({"type": "chat.send", "id": "x3", "channel": "general", "text": 5, "key": "k"})
    )
    await client.socket.send(
        json.dumps(
            {"type": "chat.send", "id": "x4", "channel": "general", "text": "x" * 4001, "key": "k"}
        )
    )
    errors = await client.wait_for("error", count=2)
    assert [e["code"] for e in errors] == ["invalid_json", "invalid_json"]
    for request_id, code in (
        ("x1", "validation_failed"),
        ("x2", "validation_failed"),
        ("x3", "validation_failed"),
        ("x4", "validation_failed"),
    ):
        reply = await asyncio.wait_for(_reply(client, request_id), WAIT)
        assert reply["code"] == code, reply
    # The connection is still usable after bad input.
    await client.ok("chat.send", channel="general", text="still here", key="ok")
    await client.socket.send("x" * (settings.ws_frame_max_bytes + 1))
    assert await client.closed() == 4400


async def _reply(client: HubClient, request_id: str) -> dict:
    while True:
        for frame in client.pushes:
            if frame.get("id") == request_id:
                return frame
        await asyncio.sleep(0.01)


async def test_binary_frames_are_a_protocol_error(live: Live) -> None:
    room = await make_room(live.http, live.services)
    client = await connect(live, room, "pupil")
    await client.socket.send(b"\x00\x01")
    assert await client.closed() == 4400


async def test_flood_hits_the_rate_limit(settings: Settings) -> None:
    # One request per 100 s after the burst: however slow the machine, none refills in between.
    limited = settings.model_copy(update={"chat_rate_per_second": 0.01, "chat_rate_burst": 5})
    async with serve(limited) as live:
        room = await make_room(live.http, live.services)
        client = await connect(live, room, "pupil")
        replies = [
            await client.request("chat.send", channel="general", text=f"{i}", key=f"{i}")
            for i in range(8)
        ]
        assert [r["type"] for r in replies[:5]] == ["ack"] * 5
        limited_reply = replies[5]
        assert limited_reply["code"] == "rate_limited" and limited_reply["retry_after"] >= 1
        # A client that ignores the limit is disconnected.
        for i in range(20):
            await client.socket.send(json.dumps({"type": "ping", "id": f"f{i}"}))
        assert await client.closed() == 4429
        history = await live.http.get(
            f"/api/projects/{room.project_id}/channels", headers=room.headers["pupil"]
        )
        general = [c for c in history.json()["channels"] if c["name"] == "general"][0]
        assert general["last_seq"] == 5, "refused sends wrote nothing"


@pytest.mark.parametrize("status", ["archived", "closed"])
async def test_room_changes_reach_live_sockets(live: Live, status: str) -> None:
    room = await make_room(live.http, live.services)
    pupil = await connect(live, room, "pupil")
    admin = await connect(live, room, "teacher_admin")
    changed = await live.http.patch(
        f"/api/projects/{room.project_id}",
        json={"status": status},
        headers=room.headers["teacher_admin"],
    )
    assert changed.status_code == 200
    if status == "closed":
        assert await pupil.closed() == 4403
        [note] = await admin.wait_for("room.changed")
        assert note["status"] == "closed"
        return
    [note] = await pupil.wait_for("room.changed")
    assert note["status"] == "archived" and "chat.send" not in note["permissions"]
    reply = await pupil.request("chat.send", channel="general", text="hi", key="k")
    assert reply["code"] == "read_only"
    assert (await pupil.ok("chat.history", channel="general"))["messages"] == []


async def test_a_socket_from_before_a_reset_goes_even_beside_a_newer_one(live: Live) -> None:
    """The live re-check judges each socket's own token, not one token per user."""
    room = await make_room(live.http, live.services)
    old = await connect(live, room, "pupil")
    pupil_id = room.user_ids["pupil"]
    # A reset whose announcement this node missed (another node, a broker outage).
    async with live.services.db.transaction() as tx:
        user = await tx.get(User, pupil_id)
        assert user is not None
        user.token_generation += 1
        tx.add(user)
        generation = user.token_generation
    fresh, _ = live.services.tokens.issue(pupil_id, generation)
    new = await HubClient.connect(live.url, room.project_id, fresh)
    await new.wait_for("presence.state")
    # Any later room change re-checks every socket.
    changed = await live.http.patch(
        f"/api/projects/{room.project_id}",
        json={"description": "rivers"},
        headers=room.headers["teacher_admin"],
    )
    assert changed.status_code == 200
    assert await old.closed() == 4401
    await new.ok("ping")


async def test_handshakes_arriving_together_are_each_judged_on_rows_read_after_them(
    live: Live,
) -> None:
    """Handshakes are read in batches (`projects/admission.py`, for reconnect storms): opened
    together, each socket still gets its own verdict, and a reset made just before refuses the
    older token at once, because nothing is cached between batches."""
    room = await make_room(live.http, live.services, "a")
    other = await make_room(live.http, live.services, "b")
    pupil_id = room.user_ids["pupil"]
    before_reset = await connect(live, room, "pupil")  # the old token was good a moment ago
    await before_reset.close()
    async with live.services.db.transaction() as tx:
        user = await tx.get(User, pupil_id)
        assert user is not None
        user.token_generation += 1
        tx.add(user)
        generation = user.token_generation
    fresh, _ = live.services.tokens.issue(pupil_id, generation)
    admitted = [fresh] + [token(room, role) for role in ("teacher", "expert", "teacher_admin")]
    opened = await asyncio.gather(
        *(HubClient.connect(live.url, room.project_id, value) for value in admitted),
        HubClient.connect(live.url, room.project_id, token(room, "pupil")),
        HubClient.connect(live.url, other.project_id, token(room, "teacher")),
        HubClient.connect(live.url, 987654, token(room, "expert")),
    )
    for client in opened[: len(admitted)]:
        await client.wait_for("presence.state")
        await client.ok("ping")
    verdicts = []
    for client in opened[len(admitted) :]:
        code = await client.closed()
        [frame] = client.of_type("error")
        verdicts.append((code, frame["code"]))
    assert verdicts == [(4401, "token_invalid"), (4403, "forbidden"), (4404, "not_found")]
    for client in opened[: len(admitted)]:
        await client.close()


async def test_an_archived_room_takes_no_reports(live: Live) -> None:
    room = await make_room(live.http, live.services)
    pupil = await connect(live, room, "pupil")
    sent = await pupil.ok("chat.send", channel="general", text="before", key="b")
    archived = await live.http.patch(
        f"/api/projects/{room.project_id}",
        json={"status": "archived"},
        headers=room.headers["teacher_admin"],
    )
    assert archived.status_code == 200
    await pupil.wait_for("room.changed")
    reply = await pupil.request("chat.report", channel="general", seq=sent["seq"], reason="x")
    assert reply["code"] == "read_only"


async def test_removed_demoted_and_reset_members_are_told_at_once(live: Live) -> None:
    room = await make_room(live.http, live.services)
    expert = await connect(live, room, "expert")
    teacher = await connect(live, room, "teacher")
    pupil = await connect(live, room, "pupil")
    staff = await connect(live, room, "teacher_admin")
    await teacher.ok("chat.subscribe", channels={"teachers": None})
    await staff.ok("chat.send", channel="teachers", text="before", key="b")
    await teacher.wait_for("chat.message")
    admin = room.headers["teacher_admin"]
    base = f"/api/projects/{room.project_id}"
    await live.http.delete(f"{base}/members/{room.user_ids['expert']}", headers=admin)
    assert await expert.closed() == 4403
    await live.http.patch(
        f"{base}/members/{room.user_ids['teacher']}", json={"role": "observer"}, headers=admin
    )
    [note] = await teacher.wait_for("room.changed")
    assert note["role"] == "observer"
    reply = await teacher.request("chat.send", channel="general", text="hi", key="k")
    assert reply["code"] == "forbidden"
    # Observers have no staff room: the demoted teacher's subscription to it ends.
    await staff.ok("chat.send", channel="teachers", text="after", key="a")
    await teacher.ok("ping")
    assert [m["message"]["text"] for m in teacher.of_type("chat.message")] == ["before"]
    await live.http.post(f"{base}/pupils/{room.user_ids['pupil']}/reset-password", headers=admin)
    assert await pupil.closed() == 4401


async def test_token_expiry_and_refresh(live: Live, settings: Settings) -> None:
    room = await make_room(live.http, live.services)
    pupil_id = room.user_ids["pupil"]

    def short_token(exp: datetime) -> str:
        return jwt.encode(
            {"iss": "twinspace-rt", "sub": str(pupil_id), "gen": 0, "exp": exp},
            settings.signing_key,
            algorithm="HS256",
        )

    # Both sockets must open, and one be refreshed, before the short token runs out. A busy
    # machine may be slower than that; only then is it tried again with a longer token.
    for seconds in (2, 8, WAIT):
        exp = datetime.now(UTC) + timedelta(seconds=seconds)
        refreshed = await HubClient.connect(live.url, room.project_id, short_token(exp))
        expiring = await HubClient.connect(live.url, room.project_id, short_token(exp))
        try:
            reply = await refreshed.ok(
                "auth.refresh", token=short_token(exp + timedelta(seconds=600))
            )
        except (Closed, AssertionError):
            if datetime.now(UTC) < exp:
                raise
        else:
            if datetime.now(UTC) < exp:
                break
        await refreshed.close()
        await expiring.close()
    else:
        pytest.fail("the machine never opened a socket within the token's lifetime")
    assert reply["expires_at"]
    wrong_user = await refreshed.request("auth.refresh", token=token(room, "teacher"))
    assert wrong_user["code"] == "token_invalid"
    assert await expiring.closed() == 4401
    await refreshed.ok("ping")
    await refreshed.close()


MODERATORS = {"teacher_admin", "teacher"}


async def test_every_role_against_the_moderation_actions(live: Live) -> None:
    room = await make_room(live.http, live.services)
    author = await connect(live, room, "pupil")
    for role in CHANNEL_RIGHTS:
        if role == "pupil":
            continue
        client = await connect(live, room, role)
        sent = await author.ok("chat.send", channel="general", text=f"for {role}", key=f"m-{role}")
        deleted = await client.request("chat.delete", channel="general", seq=sent["seq"])
        muted = await client.request("chat.mute", user_id=room.user_ids["pupil"], minutes=0)
        reported = await client.request(
            "chat.report", channel="general", seq=sent["seq"], reason="test"
        )
        assert (deleted["type"] == "ack") is (role in MODERATORS), (role, deleted)
        assert (muted["type"] == "ack") is (role in MODERATORS), (role, muted)
        assert reported["type"] == "ack", (role, reported)
        await client.close()


async def test_keepalive_pings_and_drops_silent_peers(settings: Settings) -> None:
    quick = settings.model_copy(update={"ws_ping_seconds": 1, "ws_idle_timeout_seconds": 3})
    async with serve(quick) as live:
        room = await make_room(live.http, live.services)
        silent = await HubClient.connect(
            live.url, room.project_id, token(room, "pupil"), silent=True
        )
        chatty = await connect(live, room, "teacher")
        await silent.wait_for("ping")
        assert await silent.closed() == 4408
        # Four more pings, a second apart: longer than the idle timeout, answered each time.
        await chatty.wait_for("ping", count=len(chatty.of_type("ping")) + 4)
        assert chatty.close_code is None
        await chatty.ok("ping")


def test_tokens_in_socket_urls_never_reach_the_log() -> None:
    record = logging.LogRecord(
        "uvicorn.error",
        logging.INFO,
        __file__,
        1,
        '%s - "WebSocket %s" [accepted]',
        ("127.0.0.1:5000", "/ws/projects/7?token=eyJ.secret.sig&x=1"),
        None,
    )
    assert RedactTokens().filter(record)
    assert "secret" not in record.getMessage()
    assert "/ws/projects/7?token=***&x=1" in record.getMessage()


def places_of(client: HubClient, user_id: int) -> list[dict]:
    """Every place of ``user_id`` this socket was ever told of, in state, joins and updates."""
    users = [u for f in client.of_type("presence.state") for u in f["users"]]
    users += [f["user"] for f in client.pushes if f["type"] in ("presence.join", "presence.update")]
    return [d["location"] for u in users if u["user_id"] == user_id for d in u["devices"]]


async def test_presence_never_names_a_channel_to_those_who_may_not_read_it(live: Live) -> None:
    """Issue 17: a pupil sees that a teacher is in a channel, never which staff channel."""
    room = await make_room(live.http, live.services)
    teacher_id, pupil_id = room.user_ids["teacher"], room.user_ids["pupil"]
    admin = await connect(live, room, "teacher_admin")
    pupil = await connect(live, room, "pupil")
    teacher = await connect(live, room, "teacher")
    staff_room = {"kind": "channel", "ref": "teachers"}
    await teacher.ok("presence.update", location=staff_room)
    await eventually(lambda: staff_room in places_of(admin, teacher_id))
    await eventually(lambda: {"kind": "channel", "ref": None} in places_of(pupil, teacher_id))
    late = await connect(live, room, "pupil")
    assert {"kind": "channel", "ref": None} in places_of(late, teacher_id)
    # A channel the pupil may read is named to them.
    await teacher.ok("presence.update", location={"kind": "channel", "ref": "pupils"})
    await eventually(lambda: {"kind": "channel", "ref": "pupils"} in places_of(pupil, teacher_id))
    # A pupil cannot claim to be in the teachers' room, nor in a channel that does not exist.
    for ref in ("teachers", "no-such-channel"):
        await pupil.ok("presence.update", location={"kind": "channel", "ref": ref})
    await pupil.ok("presence.update", location={"kind": "channel", "ref": "general"})
    await eventually(lambda: {"kind": "channel", "ref": "general"} in places_of(admin, pupil_id))
    for client in (pupil, late):
        assert "teachers" not in json.dumps(client.pushes), "a pupil was told the staff room"
    assert "no-such-channel" not in json.dumps(admin.pushes)
    assert {"kind": "channel", "ref": None} in places_of(admin, pupil_id)
    for client in (admin, pupil, teacher, late):
        await client.close()


async def test_sockets_leaving_together_close_the_room_once(settings: Settings) -> None:
    """Every socket of a room closing at once: each leave awaits the broker, so several found
    the room empty and all but the first one's teardown raised (tracebacks, first seen under
    load). The room closes once, and the next sockets have a working room."""
    redis_settings = settings.model_copy(
        update={"redis_url": await require_shared_redis(), "redis_prefix": "test-leaving"}
    )
    async with serve(redis_settings) as live:
        with recorded() as log:
            room = await make_room(live.http, live.services)
            roles = ["teacher_admin", "teacher", "pupil", "pupil_admin"] * 3
            for _ in range(5):
                clients = [await connect(live, room, role) for role in roles]
                await asyncio.gather(*(client.close() for client in clients))
                await eventually(lambda: room.project_id not in live.services.hub.rooms)
            teacher = await connect(live, room, "teacher")
            pupil = await connect(live, room, "pupil")
            await pupil.ok("chat.subscribe", channels={"general": None})
            await teacher.ok("chat.send", channel="general", text="still here", key="after")
            await pupil.wait_for("chat.message")
    assert log.tracebacks() == []
