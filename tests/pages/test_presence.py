"""Presence never names a page's document to a member who may not open it (issue 17)."""

from __future__ import annotations

import json

from tests.chat.test_chat import connect
from tests.hub.test_access import places_of
from tests.support.forums import Forums
from tests.support.live import Live
from tests.support.room import make_room
from tests.support.waiting import eventually


async def test_presence_names_a_document_only_to_those_who_may_open_it(live: Live) -> None:
    room = await make_room(live.http, live.services)
    pages = Forums(live.http, room)
    names = {}
    for key, body in (
        ("open", {"title": "Our river walk"}),
        ("draft", {"title": "Secret draft"}),
        ("staff_draft", {"title": "Staff plan", "visibility": "teachers"}),
    ):
        page = await pages.ok("teacher_admin", "POST", "/pages", body)
        if key == "open":
            await pages.ok("teacher_admin", "PATCH", f"/pages/{page['id']}", {"state": "published"})
        names[key] = (await pages.ok("teacher_admin", "GET", f"/pages/{page['id']}"))["document"]
    watchers = {r: await connect(live, room, r) for r in ("teacher_admin", "pupil", "pupil_admin")}
    teacher = await connect(live, room, "teacher")
    teacher_id, pupil_id = room.user_ids["teacher"], room.user_ids["pupil"]

    def place(name: str | None) -> dict[str, str | None]:
        return {"kind": "doc", "ref": name}

    async def teacher_in(key: str, named_to: set[str]) -> None:
        await teacher.ok("presence.update", location=place(names[key]))
        for role, watcher in watchers.items():
            seen = place(names[key] if role in named_to else None)
            await eventually(lambda w=watcher, s=seen: places_of(w, teacher_id)[-1:] == [s])

    # A published page's document is named to all; a draft's only to those who read drafts;
    # a teachers-only draft's only to those who hold both rights (not a pupil administrator).
    await teacher_in("open", {"teacher_admin", "pupil", "pupil_admin"})
    await teacher_in("draft", {"teacher_admin", "pupil_admin"})
    await teacher_in("staff_draft", {"teacher_admin"})
    # A pupil cannot claim to be in a document they may not open: its name is dropped.
    pupil = watchers["pupil"]
    await pupil.ok("presence.update", location=place(names["draft"]))
    await eventually(lambda: places_of(watchers["teacher_admin"], pupil_id)[-1:] == [place(None)])
    told = {role: json.dumps(w.pushes) for role, w in watchers.items()}
    assert names["draft"] not in told["pupil"]
    assert names["staff_draft"] not in told["pupil"] + told["pupil_admin"]
    for client in (*watchers.values(), teacher):
        await client.close()
