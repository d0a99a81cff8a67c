"""Breakout groups on Janus: a class split into groups (by hand, or mixed by school), each its own
room; a message to every group, a teacher's visit, and everyone called back."""

from __future__ import annotations

from typing import Any

from signaling.janus import JanusError
from signaling.sfu_rooms import room_of
from signaling.state import running
from tests.chat.test_chat import connect
from tests.support.janus import Janus
from tests.support.live import HubClient, Live
from tests.support.log_capture import recorded
from tests.support.room import Room, add_teacher, bearer, make_room, settle_password
from tests.support.sfu_peer import SfuPeer
from tests.video.sfu_support import (
    PUPIL_CAMERA,
    janus,
    publish,
    publishers,
    sfu_live,
    subscribe,
    until_received,
)

__all__ = ["janus", "sfu_live"]


async def _pupil_of(live: Live, room: Room, creator: str, name: str) -> HubClient:
    """A pupil whose account the teacher ``creator`` made: a pupil of that teacher's school."""
    made = await live.http.post(
        f"/api/projects/{room.project_id}/pupils",
        json={"display_name": name, "role": "pupil"},
        headers=room.headers[creator],
    )
    assert made.status_code == 201, made.text
    user_id = made.json()["pupils"][0]["user_id"]
    await settle_password(live.services, user_id)
    token, _ = live.services.tokens.issue(user_id, 0)
    client = await HubClient.connect(live.url, room.project_id, token)
    await client.wait_for("presence.state")
    return client


async def _group_room(live: Live, project_id: int, group: int | None) -> int:
    async with live.services.db.reader() as tx:
        video = await running(tx, project_id)
    assert video is not None
    return room_of(live.services.settings.signing_key, video, group).id


def _groups(session: dict[str, Any]) -> dict[int, int | None]:
    return {p["participant_id"]: p["breakout"] for p in session["participants"]}


async def test_groups_mix_schools_and_receive_only_their_group(
    sfu_live: Live, janus: Janus
) -> None:
    live = sfu_live
    room = await make_room(live.http, live.services)
    # The partner school's teacher administers the project too, and makes its own pupils.
    partner_id = await add_teacher(live.services, "partner-admin", "PL")
    invited = await live.http.post(
        f"/api/projects/{room.project_id}/members",
        json={"username": "partner-admin", "role": "teacher_admin"},
        headers=room.headers["teacher_admin"],
    )
    assert invited.status_code == 201, invited.text
    room.headers["partner"] = bearer(live.services, partner_id)
    teacher = await connect(live, room, "teacher_admin")
    partner = await connect(live, room, "teacher")
    # A member of the project who stays out of the session.
    observer = await connect(live, room, "observer")
    # Two pupils of each school: the Portuguese teacher's and the Polish teacher's.
    clients = [
        await _pupil_of(live, room, creator, f"{creator} {n}")
        for creator in ("teacher_admin", "partner")
        for n in range(2)
    ]
    peers = [await SfuPeer.start(janus) for _ in range(3)]
    try:
        await teacher.ok("rtc.start", max_participants=30)
        await teacher.ok("rtc.join")
        await partner.ok("rtc.join")
        ids = [(await client.ok("rtc.join"))["participant_id"] for client in clients]
        pt, pl = ids[:2], ids[2:]

        split = (await teacher.ok("rtc.breakout", count=2))["session"]
        groups = _groups(split)
        assert split["breakouts"] == 2
        # Each group holds one pupil of each school; the teachers stay in the main room.
        for group in (1, 2):
            members = {pid for pid in ids if groups[pid] == group}
            assert len(members & set(pt)) == 1 and len(members & set(pl)) == 1
        assert [p for p, g in groups.items() if g is None and p in ids] == []
        for client, pid in zip(clients, ids, strict=True):
            [moved] = await client.wait_for("rtc.moved")
            assert moved["group"] == groups[pid]

        # Two pupils of group 1 publish and see each other; nobody reaches group 2's feeds.
        one = [pid for pid in ids if groups[pid] == 1]
        two = [pid for pid in ids if groups[pid] == 2]
        by_id = dict(zip(ids, clients, strict=True))
        a, b = by_id[one[0]], by_id[one[1]]
        c = by_id[two[0]]
        await publish(a, peers[0], PUPIL_CAMERA)
        await publish(b, peers[1], PUPIL_CAMERA)
        await publish(c, peers[2], PUPIL_CAMERA)
        await a.wait_for("rtc.feed", participant_id=one[1], live=True)
        await subscribe(a, peers[0], one[1], "b")
        await until_received(peers[0], "b", PUPIL_CAMERA)
        # Each group hears of its own feeds alone; the teachers in the main room and the
        # member outside the session hear of none.
        await a.wait_for("rtc.feed", participant_id=one[0], live=True)
        await b.wait_for("rtc.feed", participant_id=one[0], live=True)
        await b.wait_for("rtc.feed", participant_id=one[1], live=True)
        await c.wait_for("rtc.feed", participant_id=two[0], live=True)
        assert await _heard(a) == await _heard(b) == set(one)
        assert await _heard(c) == {two[0]}
        for outside in (teacher, partner):
            assert await _heard(outside) == set()
        assert await _heard(observer) == await _heard(observer, live=False) == set()
        with recorded() as log:
            reply = await a.request("rtc.subscribe", participant_id=two[0])
            assert reply["code"] == "not_found", reply
            reply = await teacher.request("rtc.subscribe", participant_id=one[0])
            assert reply["code"] == "not_found", reply
            reply = await teacher.request("rtc.breakout", count=3)
            assert reply["code"] == "conflict", reply
            reply = await teacher.request("rtc.visit", group=3)
            assert reply["code"] == "not_found", reply
            reply = await a.request("rtc.visit", group=2)
            assert reply["code"] == "forbidden", reply
            reply = await a.request("rtc.broadcast", text="hi")
            assert reply["code"] == "forbidden", reply
        assert log.tracebacks() == []
        group_rooms = [await _group_room(live, room.project_id, g) for g in (None, 1, 2)]
        assert await publishers(janus, group_rooms[1]) == sorted(one)
        assert await publishers(janus, group_rooms[2]) == [two[0]]
        assert await publishers(janus, group_rooms[0]) == []

        # A message to every group.
        await teacher.ok("rtc.broadcast", text="Five minutes left")
        for client in clients:
            [message] = await client.wait_for("rtc.broadcast")
            assert message["text"] == "Five minutes left"

        # The teacher visits group 2: its feeds, and only its, are in reach.
        visited = (await teacher.ok("rtc.visit", group=2))["session"]
        assert _groups(visited)[_own(visited, room)] == 2
        assert (await teacher.request("rtc.subscribe", participant_id=one[0]))[
            "code"
        ] == "not_found"
        assert _feeds(visited)[two[0]]["camera"] is True
        ack = await teacher.ok("rtc.subscribe", participant_id=two[0])
        assert ack["description"]["type"] == "offer"
        # While visiting, the teacher hears of group 2's feeds (group 1 does not).
        await c.ok("rtc.unpublish")
        await teacher.wait_for("rtc.feed", participant_id=two[0], live=False)
        assert two[0] not in await _heard(a, live=False)

        # Everyone back: the groups' rooms close, every pupil is told.
        back = (await teacher.ok("rtc.recall"))["session"]
        assert back["breakouts"] == 0
        assert set(_groups(back).values()) == {None}
        for client in clients:
            moves = await client.wait_for("rtc.moved", count=2)
            assert moves[1]["group"] is None
        for group_room in group_rooms[1:]:
            try:
                await publishers(janus, group_room)
            except JanusError as exc:
                assert exc.code == 426
            else:
                raise AssertionError("a group's room outlived the recall")
        # In the main room again, pupils of the two former groups reach each other.
        await publish(c, peers[2], PUPIL_CAMERA, name="back")
        # The first announcement of it that `a` hears: the earlier one was group 2's alone.
        await a.wait_for("rtc.feed", participant_id=two[0], live=True)
        await subscribe(a, peers[0], two[0], "c")
        await until_received(peers[0], "c", PUPIL_CAMERA)
    finally:
        for peer in peers:
            await peer.close()


def _feeds(session: dict[str, Any]) -> dict[int, dict[str, bool]]:
    return {p["participant_id"]: p["feeds"] for p in session["participants"]}


async def _heard(client: HubClient, live: bool = True) -> set[int]:
    """Whose feeds the ``rtc.feed`` pushes the socket received so far announced (live, or
    ended). A request's ack comes after every push sent to the socket before it: none is
    still on its way."""
    await client.ok("rtc.state")
    return {p["participant_id"] for p in client.of_type("rtc.feed") if p["live"] == live}


def _own(session: dict[str, Any], room: Room) -> int:
    teacher = room.user_ids["teacher_admin"]
    return next(p["participant_id"] for p in session["participants"] if p["user_id"] == teacher)


async def test_groups_by_hand_are_checked(sfu_live: Live, janus: Janus) -> None:
    live = sfu_live
    room = await make_room(live.http, live.services)
    teacher = await connect(live, room, "teacher_admin")
    pupils = [await connect(live, room, role) for role in ("pupil", "pupil_admin")]
    await teacher.ok("rtc.start", max_participants=30)
    teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
    ids = [(await pupil.ok("rtc.join"))["participant_id"] for pupil in pupils]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"groups": [[ids[0]], [ids[0]]]}, "conflict"),
        ({"groups": [[ids[0], 999999]]}, "not_found"),
        ({"groups": [[]]}, "validation_failed"),
        ({"groups": [[ids[0]]], "count": 2}, "validation_failed"),
        ({"count": 0}, "validation_failed"),
        ({"count": 21}, "validation_failed"),
    ]
    with recorded() as log:
        for fields, code in bad:
            reply = await teacher.request("rtc.breakout", **fields)
            assert reply["code"] == code, (fields, reply)
        assert (await teacher.request("rtc.recall"))["code"] == "conflict"
    assert log.tracebacks() == []
    split = (await teacher.ok("rtc.breakout", groups=[[ids[0]], [ids[1], teacher_id]]))["session"]
    assert _groups(split) == {teacher_id: 2, ids[0]: 1, ids[1]: 2}
    ended = (await teacher.ok("rtc.end"))["session"]
    assert ended["status"] == "ended"
