"""Materials attached to forum posts (issue 15): a thread's opening post and replies carry the
project's approved materials, live, in replays and in the thread's pages; anything else is refused whole,
and a material removed later stays in its place, unavailable."""

from __future__ import annotations

from tests.chat.test_chat import connect
from tests.materials.support import image, images_here_and_elsewhere
from tests.support.forums import Forums
from tests.support.live import Live
from tests.support.room import make_room

UNAVAILABLE = {"id": None, "kind": None, "title": None, "available": False}


def ids(post: dict[str, object]) -> list[object]:
    return [m["id"] for m in post["materials"]]  # type: ignore[attr-defined]


async def test_forum_posts_carry_approved_materials_of_their_project(live: Live) -> None:
    room = await make_room(live.http, live.services)
    forums = Forums(live.http, room)
    first, second, theirs, other = await images_here_and_elsewhere(live, room)
    pending, rejected = await image(live, room, "pupil"), await image(live, room, "pupil")
    await forums.ok("teacher", "POST", f"/materials/{rejected}/review", {"verdict": "reject"})
    forum_id = await forums.forum()
    pupil = await connect(live, room, "pupil")
    await pupil.ok("forum.subscribe", streams={"forum": None})

    opened = await forums.ok(
        "teacher",
        "POST",
        f"/forums/{forum_id}/threads",
        {"title": "Bridges", "body": "Ours", "materials": [first, second, first]},
    )
    assert [
        (m["id"], m["kind"], m["title"], m["available"]) for m in opened["post"]["materials"]
    ] == [
        (first, "image", "home.jpg", True),
        (second, "image", "home.jpg", True),
    ]
    thread_id = opened["thread"]["id"]
    [pushed] = await pupil.wait_for("forum.thread.created")
    assert ids(pushed["post"]) == [first, second]
    reply = await forums.reply(thread_id, "pupil", "And ours", materials=[second])
    assert ids(reply) == [second]
    [live_reply] = await pupil.wait_for("forum.post.created")
    assert ids(live_reply["post"]) == [second]

    # Refused whole, nothing written: another project's, a pupil's upload in review (even by
    # its uploader), a rejected one, an unknown id, too many.
    for role, materials, code in (
        ("teacher", [theirs], "not_found"),
        ("pupil", [pending], "not_found"),
        ("teacher", [pending], "not_found"),
        ("teacher", [first, rejected], "not_found"),
        ("teacher", [999999], "not_found"),
        ("teacher", list(range(1, 12)), "validation_failed"),
    ):
        refused = await forums.call(
            role, "POST", f"/threads/{thread_id}/posts", {"body": "x", "materials": materials}
        )
        assert refused.json()["error"]["code"] == code, (role, materials)
        refused = await forums.call(
            role,
            "POST",
            f"/forums/{forum_id}/threads",
            {"title": "x", "body": "x", "materials": materials},
        )
        assert refused.json()["error"]["code"] in (code, "forbidden"), (role, materials)
    page = await forums.ok("pupil", "GET", f"/threads/{thread_id}/posts")
    assert [p["body"] for p in page["posts"]] == ["Ours", "And ours"]
    assert [ids(p) for p in page["posts"]] == [[first, second], [second]]
    # A socket resuming from the start is replayed both posts with their materials.
    late = await connect(live, room, "pupil")
    await late.ok("forum.subscribe", streams={"forum": 0})
    [replayed_thread] = await late.wait_for("forum.thread.created")
    [replayed_reply] = await late.wait_for("forum.post.created")
    assert ids(replayed_thread["post"]) == [first, second]
    assert ids(replayed_reply["post"]) == [second]
    await late.close()

    # A removed material stays in its place, unavailable; a deleted post keeps none.
    removed = await forums.call("teacher_admin", "DELETE", f"/materials/{second}")
    assert removed.status_code == 204, removed.text
    page = await forums.ok("pupil", "GET", f"/threads/{thread_id}/posts")
    assert page["posts"][0]["materials"][1] == UNAVAILABLE
    assert page["posts"][1]["materials"] == [UNAVAILABLE]
    await forums.ok("pupil", "DELETE", f"/posts/{reply['id']}")
    page = await forums.ok("pupil", "GET", f"/threads/{thread_id}/posts")
    assert page["posts"][1]["deleted"] and page["posts"][1]["materials"] == []
    # The bulletin takes no materials.
    refused = await forums.call("teacher", "POST", "/bulletin", {"body": "x", "materials": [first]})
    assert refused.json()["error"]["code"] == "validation_failed"
    await pupil.close()
