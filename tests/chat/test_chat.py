"""The hub over real sockets: chat delivery, idempotency, history, edits, moderation."""

from __future__ import annotations

import asyncio
import json

from tests.support.live import HubClient, Live, NodeProcess, serve
from tests.support.room import Room, make_room
from twinspace_rt.settings import Settings


def token(room: Room, role: str) -> str:
    return room.headers[role]["Authorization"].split()[1]


async def connect(node: Live | NodeProcess, room: Room, role: str) -> HubClient:
    """A member's socket on a node, once it has its presence state."""
    client = await HubClient.connect(node.url, room.project_id, token(room, role))
    await client.wait_for("presence.state")
    return client


async def test_a_message_is_stored_then_delivered_with_its_seq(live: Live) -> None:
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher")
    pupil = await connect(live, room, "pupil")
    await pupil.ok("chat.subscribe", channels={"general": None})
    ack = await teacher.ok("chat.send", channel="general", text="Bom dia! Dzień dobry!", key="k1")
    assert ack["seq"] == 1 and ack["duplicate"] is False
    [push] = await pupil.wait_for("chat.message")
    message = push["message"]
    assert push["change"] == "created"
    assert (message["seq"], message["text"], message["channel"]) == (
        1,
        "Bom dia! Dzień dobry!",
        "general",
    )
    assert message["author_id"] == room.user_ids["teacher"]
    # The sender did not subscribe, so it gets the ack but no push.
    assert teacher.of_type("chat.message") == []
    history = await pupil.ok("chat.history", channel="general")
    assert [m["text"] for m in history["messages"]] == ["Bom dia! Dzień dobry!"]
    await teacher.close()
    await pupil.close()


async def test_a_retried_send_returns_the_original_ack(live: Live) -> None:
    room = await make_room(live.http, live.services)
    pupil = await connect(live, room, "pupil")
    watcher = await connect(live, room, "teacher")
    await watcher.ok("chat.subscribe", channels={"pupils": None})
    first = await pupil.ok("chat.send", channel="pupils", text="hello", key="same-key")
    again = await pupil.ok("chat.send", channel="pupils", text="hello", key="same-key")
    assert again["seq"] == first["seq"] and again["duplicate"] is True
    await pupil.ok("chat.send", channel="pupils", text="next", key="other-key")
    pushes = await watcher.wait_for("chat.message", count=2)
    assert [p["message"]["text"] for p in pushes] == ["hello", "next"]
    history = await watcher.ok("chat.history", channel="pupils")
    assert [m["seq"] for m in history["messages"]] == [1, 2]


async def test_history_pages_backwards(live: Live) -> None:
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher")
    for i in range(25):
        await teacher.ok("chat.send", channel="general", text=f"m{i}", key=f"k{i}")
    page = await teacher.ok("chat.history", channel="general", limit=10)
    assert [m["seq"] for m in page["messages"]] == list(range(16, 26))
    older = await teacher.ok("chat.history", channel="general", before=16, limit=10)
    assert [m["seq"] for m in older["messages"]] == list(range(6, 16))
    oldest = await teacher.ok("chat.history", channel="general", before=6, limit=10)
    assert [m["seq"] for m in oldest["messages"]] == [1, 2, 3, 4, 5]


async def test_edit_delete_react_and_tombstones(live: Live) -> None:
    room = await make_room(live.http, live.services)
    pupil = await connect(live, room, "pupil")
    other = await connect(live, room, "pupil_admin")
    teacher = await connect(live, room, "teacher")
    for client in (other, teacher):
        await client.ok("chat.subscribe", channels={"pupils": None})
    sent = await pupil.ok("chat.send", channel="pupils", text="I lik trains", key="a")
    edited = await pupil.ok("chat.edit", channel="pupils", seq=sent["seq"], text="I like trains")
    assert edited["message"]["text"] == "I like trains" and edited["message"]["edited_at"]
    reacted = await other.ok("chat.react", channel="pupils", seq=sent["seq"], emoji="🚂")
    assert reacted["message"]["reactions"] == {"🚂": [room.user_ids["pupil_admin"]]}
    # Someone else's message: a pupil may not edit or delete it; a teacher may delete it.
    refused = await other.request("chat.delete", channel="pupils", seq=sent["seq"])
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    refused = await other.request("chat.edit", channel="pupils", seq=sent["seq"], text="x")
    assert refused["code"] == "forbidden"
    deleted = await teacher.ok("chat.delete", channel="pupils", seq=sent["seq"])
    assert deleted["message"]["deleted"]["by"] == room.user_ids["teacher"]
    assert deleted["message"]["text"] == ""
    changes = await other.wait_for("chat.message", count=4)
    assert [c["change"] for c in changes] == ["created", "edited", "reaction", "deleted"]
    assert [c["message"]["version"] for c in changes] == [1, 2, 3, 4]
    assert {c["message"]["seq"] for c in changes} == {1}
    log = await live.http.get(
        f"/api/projects/{room.project_id}/audit", headers=room.headers["teacher_admin"]
    )
    entry = log.json()["entries"][0]
    assert entry["action"] == "chat.delete" and entry["details"]["text"] == "I like trains"
    assert entry["target_user_id"] == room.user_ids["pupil"]


async def test_edit_window(settings: Settings) -> None:
    async with serve(settings.model_copy(update={"chat_edit_window_seconds": 0})) as server:
        room = await make_room(server.http, server.services)
        pupil = await connect(server, room, "pupil")
        sent = await pupil.ok("chat.send", channel="general", text="typo", key="a")
        await asyncio.sleep(0.05)
        late = await pupil.request("chat.edit", channel="general", seq=sent["seq"], text="fixed")
        assert late["code"] == "edit_window_passed"
        late = await pupil.request("chat.delete", channel="general", seq=sent["seq"])
        assert late["code"] == "edit_window_passed"


async def test_read_markers_and_unread_counts(live: Live) -> None:
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher")
    pupil = await connect(live, room, "pupil")
    for i in range(3):
        await teacher.ok("chat.send", channel="general", text=f"g{i}", key=f"g{i}")
    await pupil.ok("chat.send", channel="pupils", text="p0", key="p0")
    assert (await pupil.ok("chat.unread"))["unread"] == {"general": 3, "pupils": 0}
    teacher_unread = (await teacher.ok("chat.unread"))["unread"]
    assert teacher_unread == {"general": 0, "teachers": 0, "pupils": 1}
    assert (await pupil.ok("chat.read", channel="general", seq=2))["last_read_seq"] == 2
    assert (await pupil.ok("chat.read", channel="general", seq=1))["last_read_seq"] == 2
    assert (await pupil.ok("chat.unread"))["unread"]["general"] == 1


async def test_report_reaches_moderators_and_mute_silences(live: Live) -> None:
    room = await make_room(live.http, live.services)
    pupil = await connect(live, room, "pupil")
    reporter = await connect(live, room, "pupil_admin")
    admin = await connect(live, room, "teacher_admin")
    sent = await pupil.ok("chat.send", channel="pupils", text="mean words", key="a")
    reported = await reporter.ok("chat.report", channel="pupils", seq=sent["seq"], reason="unkind")
    [flag] = await admin.wait_for("chat.reported")
    assert flag["report_id"] == reported["report_id"] and flag["reason"] == "unkind"
    assert reporter.of_type("chat.reported") == []
    refused = await reporter.request("chat.mute", user_id=room.user_ids["pupil"], minutes=10)
    assert refused["code"] == "forbidden"
    await admin.ok("chat.mute", user_id=room.user_ids["pupil"], minutes=10)
    # The pupil is told at once, before trying to write; nobody else gets the notice.
    [paused] = await pupil.wait_for("chat.paused")
    assert paused["minutes"] == 10 and paused["by"] == room.user_ids["teacher_admin"]
    assert reporter.of_type("chat.paused") == [] and admin.of_type("chat.paused") == []
    muted = await pupil.request("chat.send", channel="pupils", text="again", key="b")
    assert muted["code"] == "muted" and 590 <= muted["retry_after"] <= 601
    for kind, fields in (("chat.edit", {"text": "nicer words"}), ("chat.react", {"emoji": "👍"})):
        refused = await pupil.request(kind, channel="pupils", seq=sent["seq"], **fields)
        assert refused["code"] == "muted", kind
    await admin.ok("chat.mute", user_id=room.user_ids["pupil"], minutes=0)
    await pupil.wait_for("chat.paused", count=2)
    assert pupil.of_type("chat.paused")[1]["minutes"] == 0
    await pupil.ok("chat.send", channel="pupils", text="sorry", key="c")
    log = await live.http.get(
        f"/api/projects/{room.project_id}/audit", headers=room.headers["teacher_admin"]
    )
    actions = [e["action"] for e in log.json()["entries"][:3]]
    assert actions == ["chat.mute", "chat.mute", "chat.report"]


async def test_teacher_admins_add_channels_with_a_rule(live: Live) -> None:
    room = await make_room(live.http, live.services)
    url = f"/api/projects/{room.project_id}/channels"
    created = await live.http.post(
        url,
        json={"name": "planning", "title": "Planning", "rule": "staff"},
        headers=room.headers["teacher_admin"],
    )
    assert created.status_code == 201
    duplicate = await live.http.post(
        url,
        json={"name": "planning", "title": "Again", "rule": "all"},
        headers=room.headers["teacher_admin"],
    )
    assert duplicate.status_code == 409
    bad = await live.http.post(
        url,
        json={"name": "Bad Name!", "title": "x", "rule": "all"},
        headers=room.headers["teacher_admin"],
    )
    assert bad.status_code == 422
    denied = await live.http.post(
        url, json={"name": "x", "title": "x", "rule": "all"}, headers=room.headers["teacher"]
    )
    assert denied.status_code == 403
    teacher_view = await live.http.get(url, headers=room.headers["teacher"])
    assert [c["name"] for c in teacher_view.json()["channels"]] == [
        "general",
        "teachers",
        "pupils",
        "planning",
    ]
    pupil_view = await live.http.get(url, headers=room.headers["pupil"])
    assert [c["name"] for c in pupil_view.json()["channels"]] == ["general", "pupils"]
    expert_view = await live.http.get(url, headers=room.headers["expert"])
    assert [c["name"] for c in expert_view.json()["channels"]] == ["general"]


async def test_concurrent_sends_share_commits_but_keep_their_own_answers(live: Live) -> None:
    """Many sockets at once: group commit numbers them gaplessly, refusals stay individual."""
    room = await make_room(live.http, live.services)
    roles = ["teacher_admin", "teacher", "expert", "pupil_admin", "pupil"]
    clients = [await connect(live, room, role) for role in roles]
    watcher = await connect(live, room, "observer")
    await watcher.ok("chat.subscribe", channels={"general": None})

    async def burst(client: HubClient, role: str) -> list[dict]:
        requests = [
            client.request("chat.send", channel="general", text=f"{role} {i}", key=f"{role}-{i}")
            for i in range(20)
        ]
        requests.append(client.request("chat.send", channel="general", text="dup", key=f"{role}-0"))
        requests.append(
            client.request(
                "chat.send", channel="general", text="x", key=f"{role}-bad", reply_to=99999
            )
        )
        return await asyncio.gather(*requests)

    replies = await asyncio.gather(*(burst(c, r) for c, r in zip(clients, roles, strict=True)))
    for role_replies in replies:
        fresh, duplicate, bad = role_replies[:20], role_replies[20], role_replies[21]
        assert all(r["type"] == "ack" and not r["duplicate"] for r in fresh)
        assert duplicate["duplicate"] is True and duplicate["seq"] == fresh[0]["seq"]
        assert bad["type"] == "error" and bad["code"] == "not_found"
    seqs = sorted(r["seq"] for role_replies in replies for r in role_replies[:20])
    assert seqs == list(range(1, 101))
    pushes = await watcher.wait_for("chat.message", count=100)
    assert sorted(p["message"]["seq"] for p in pushes) == seqs
    # A fence: a repeat of any of the 100 would reach the watcher before a later message.
    await clients[0].ok("chat.send", channel="general", text="fence", key="fence")
    await watcher.wait_for("chat.message", count=101)
    assert [p["message"]["text"] for p in watcher.of_type("chat.message")][100:] == ["fence"]


async def test_a_sender_that_hangs_up_at_once_still_reaches_the_room(live: Live) -> None:
    room = await make_room(live.http, live.services)
    watcher = await connect(live, room, "teacher")
    await watcher.ok("chat.subscribe", channels={"general": None})
    for i in range(5):
        leaver = await connect(live, room, "pupil")
        await leaver.socket.send(
            json.dumps(
                {
                    "type": "chat.send",
                    "id": "1",
                    "channel": "general",
                    "text": f"bye {i}",
                    "key": f"b{i}",
                }
            )
        )
        await leaver.socket.close()
    pushes = await watcher.wait_for("chat.message", count=5)
    assert sorted(p["message"]["text"] for p in pushes) == [f"bye {i}" for i in range(5)]
