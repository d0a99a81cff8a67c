"""Search over documents of the Documents list (title and text) and materials (title and file
name), and documents, forums and materials in "What's new" (issue 17): only what the caller
may read."""

from __future__ import annotations

from typing import Any

from tests.materials.support import gps_photo, make_collection, processed, upload
from tests.search.test_pages_journal import found, write
from tests.support.forums import Forums
from tests.support.live import Live
from tests.support.room import make_room


async def test_documents_are_found_by_title_and_text_by_those_who_may_open_them(
    live: Live,
) -> None:
    room = await make_room(live.http, live.services)
    other = await make_room(live.http, live.services, "other")
    f = Forums(live.http, room)
    doc = {"name": "plan", "title": "Lesson plan: the Danube", "kind": "richtext"}
    plan = await f.ok("teacher", "POST", "/docs", doc)
    await write(f, "teacher", plan["id"], "Il fiume Tevere attraversa Roma")
    page = await f.ok("teacher_admin", "POST", "/pages", {"title": "Tevere notes"})
    await f.ok("teacher_admin", "PATCH", f"/pages/{page['id']}", {"state": "published"})
    o = Forums(live.http, other)
    await o.ok("teacher", "POST", "/docs", doc | {"title": "Tevere elsewhere"})
    for role in ("pupil", "observer", "teacher"):
        # A page is found as a page (its document is not listed twice), another room's
        # document never.
        assert await found(f, role, "tevere") == [
            ("page", page["id"]),
            ("document", plan["id"]),
        ], role
    assert await found(f, "pupil", "danube") == [("document", plan["id"])]
    hit = (await f.ok("pupil", "GET", "/search", q="tevere attraversa"))["hits"][0]
    assert (hit["kind"], hit["id"], hit["title"]) == ("document", plan["id"], doc["title"])
    assert "<mark>Tevere</mark>" in hit["snippet"]
    # The index follows edits and renames; a deleted document is not found.
    await write(f, "pupil", plan["id"], "Boğaziçi Köprüsü'nü gördük")
    assert await found(f, "pupil", "tevere") == [("page", page["id"])]
    assert await found(f, "pupil", "köprü") == [("document", plan["id"])]
    await f.ok("teacher", "PATCH", f"/docs/{plan['id']}", {"title": "Limfjorden"})
    assert await found(f, "pupil", "limfjord") == [("document", plan["id"])]
    await f.ok("teacher", "DELETE", f"/docs/{plan['id']}")
    assert await found(f, "teacher", "köprü") == []


async def test_materials_are_found_by_title_and_file_name_as_their_albums_show_them(
    live: Live,
) -> None:
    room = await make_room(live.http, live.services)
    f = Forums(live.http, room)
    teacher = room.headers["teacher"]
    album = await make_collection(live.http, teacher, room.project_id, "album")

    async def uploaded(role: str, filename: str, **extra: str) -> int:
        headers = room.headers[role]
        location = await upload(
            live.http, headers, room.project_id, album, gps_photo(), filename, **extra
        )
        done = await processed(live.http, headers, location)
        assert done["status"] == "done", done
        return int(done["material_id"])

    bridge = await uploaded("teacher", "IMG_0042.jpg", title="Bosphorus bridge at night")
    # A pupil's upload waits for review: seen by its uploader and the reviewers only.
    mine = await uploaded("pupil", "bosphorus_ferry.jpg")
    hit = (await f.ok("teacher", "GET", "/search", q="bosphorus bridge"))["hits"][0]
    assert (hit["kind"], hit["id"], hit["media"]) == ("material", bridge, "image")
    assert hit["filename"] == "IMG_0042.jpg" and "<mark>Bosphorus</mark>" in hit["snippet"]
    for role in ("pupil", "teacher", "teacher_admin"):
        assert await found(f, role, "bosphorus") == [("material", mine), ("material", bridge)]
    for role in ("pupil_admin", "observer", "expert"):
        assert await found(f, role, "bosphorus") == [("material", bridge)], role
    assert await found(f, "pupil", "ferry") == [("material", mine)]
    assert await found(f, "pupil_admin", "ferry") == []
    base = f"/api/projects/{room.project_id}/materials"
    approved = await live.http.post(
        f"{base}/{mine}/review", json={"verdict": "approve"}, headers=teacher
    )
    assert approved.status_code == 200, approved.text
    assert await found(f, "pupil_admin", "ferry") == [("material", mine)]
    # A rejected upload is found by nobody, its uploader included.
    other = await uploaded("pupil", "ferry_again.jpg")
    assert await found(f, "pupil", "again") == [("material", other)]
    rejected = await live.http.post(
        f"{base}/{other}/review", json={"verdict": "reject"}, headers=teacher
    )
    assert rejected.status_code == 200, rejected.text
    for role in ("pupil", "teacher"):
        assert await found(f, role, "again") == [], role

    # What's new: others' materials as the albums show them, until marked seen.
    async def new(role: str) -> tuple[int, list[int]]:
        news = (await f.ok(role, "GET", "/activity"))["materials"]
        return news["count"], [m["id"] for m in news["newest"]]

    assert await new("pupil_admin") == (2, [mine, bridge])
    assert await new("pupil") == (1, [bridge])  # not their own
    assert await new("teacher") == (1, [mine])  # not their own, nor the rejected one
    await f.ok("pupil_admin", "POST", "/materials/read")
    assert await new("pupil_admin") == (0, [])
    waiting = await uploaded("pupil", "ferry_three.jpg")
    assert await new("pupil_admin") == (0, [])  # pending: not theirs to see
    assert await new("teacher_admin") == (3, [waiting, mine, bridge])  # reviewers see it


async def test_whats_new_names_documents_others_changed_and_each_threads_forum(
    live: Live,
) -> None:
    room = await make_room(live.http, live.services)
    f = Forums(live.http, room)
    plan = await f.ok(
        "teacher", "POST", "/docs", {"name": "plan", "title": "Plan", "kind": "richtext"}
    )

    async def new(role: str) -> list[dict[str, Any]] | None:
        return (await f.ok(role, "GET", "/activity"))["documents"]  # type: ignore[no-any-return]

    assert await new("teacher") == []  # their own document
    assert await new("pupil") == [{"id": plan["id"], "title": "Plan"}]
    await f.ok("pupil", "POST", f"/docs/{plan['id']}/read")
    assert await new("pupil") == []
    await write(f, "teacher_admin", plan["id"], "Week one: rivers")
    assert await new("pupil") == [{"id": plan["id"], "title": "Plan"}]
    assert await new("teacher") == [{"id": plan["id"], "title": "Plan"}]
    await f.ok("teacher", "DELETE", f"/docs/{plan['id']}")
    assert await new("pupil") == []
    gone = await f.call("pupil", "POST", f"/docs/{plan['id']}/read")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"

    forum = await f.ok("teacher_admin", "POST", "/forums", {"title": "Rivers of Europe"})
    thread = await f.ok(
        "teacher",
        "POST",
        f"/forums/{forum['id']}/threads",
        {"title": "The Danube", "body": "Where does it start?"},
    )
    [unread] = (await f.ok("pupil", "GET", "/activity"))["threads"]
    assert unread == {
        "thread_id": thread["thread"]["id"],
        "forum_id": forum["id"],
        "title": "The Danube",
        "forum_title": "Rivers of Europe",
        "unread": 1,
    }
