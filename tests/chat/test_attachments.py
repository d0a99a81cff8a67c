"""Materials attached to chat messages (issue 15): `chat.send` takes the project's approved
materials, checked as the journal's and the forums' are; pushes, history and replay carry them,
and a material removed later stays in its place, unavailable."""

from __future__ import annotations

from tests.chat.test_chat import connect
from tests.materials.support import image, images_here_and_elsewhere
from tests.support.forums import Forums
from tests.support.live import Live
from tests.support.room import make_room

UNAVAILABLE = {"id": None, "kind": None, "title": None, "available": False}


async def test_a_message_carries_approved_materials_of_its_project(live: Live) -> None:
    room = await make_room(live.http, live.services)
    rest = Forums(live.http, room)
    first, second, theirs, other = await images_here_and_elsewhere(live, room)
    pending, rejected = await image(live, room, "pupil"), await image(live, room, "pupil")
    await rest.ok("teacher", "POST", f"/materials/{rejected}/review", {"verdict": "reject"})
    teacher = await connect(live, room, "teacher")
    pupil = await connect(live, room, "pupil")
    await pupil.ok("chat.subscribe", channels={"general": None})

    sent = await teacher.ok(
        "chat.send", channel="general", text="Our bridge", key="a1", materials=[first, second]
    )
    [push] = await pupil.wait_for("chat.message", change="created")
    assert [
        (m["id"], m["kind"], m["title"], m["available"]) for m in push["message"]["materials"]
    ] == [
        (first, "image", "home.jpg", True),
        (second, "image", "home.jpg", True),
    ]
    plain = await teacher.ok("chat.send", channel="general", text="No photo", key="a2")

    # Refused whole with an error frame, nothing stored: another project's, an upload in review
    # (even by its uploader), a rejected one, an unknown id, too many.
    for client, materials, code in (
        (teacher, [theirs], "not_found"),
        (pupil, [pending], "not_found"),
        (teacher, [pending], "not_found"),
        (teacher, [first, rejected], "not_found"),
        (teacher, [999999], "not_found"),
        (teacher, list(range(1, 12)), "validation_failed"),
    ):
        refused = await client.request(
            "chat.send", channel="general", text="x", key=f"r{code}{materials}", materials=materials
        )
        assert refused["type"] == "error" and refused["code"] == code, (materials, refused)
    history = await pupil.ok("chat.history", channel="general")
    assert [m["text"] for m in history["messages"]] == ["Our bridge", "No photo"]
    assert [[a["id"] for a in m["materials"]] for m in history["messages"]] == [
        [first, second],
        [],
    ]

    # A removed material stays in its place, unavailable, in history and in a replay.
    removed = await rest.call("teacher_admin", "DELETE", f"/materials/{second}")
    assert removed.status_code == 204, removed.text
    late = await connect(live, room, "pupil")
    await late.ok("chat.subscribe", channels={"general": 0})
    replayed = await late.wait_for("chat.message", count=2, change="replay")
    assert [p["message"]["seq"] for p in replayed] == [sent["seq"], plain["seq"]]
    assert replayed[0]["message"]["materials"][0]["id"] == first
    assert replayed[0]["message"]["materials"][1] == UNAVAILABLE
    # A deleted message keeps none.
    await teacher.ok("chat.delete", channel="general", seq=sent["seq"])
    history = await pupil.ok("chat.history", channel="general")
    assert history["messages"][0]["deleted"] and history["messages"][0]["materials"] == []
    for client in (teacher, pupil, late):
        await client.close()
