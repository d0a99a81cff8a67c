"""Materials attached to journal posts: only the project's approved materials the author may
see, shown to readers live, replaced by an edit, gone with a deleted post, unavailable once the
material is removed."""

from __future__ import annotations

from tests.chat.test_chat import connect
from tests.materials.support import image
from tests.support.forums import Forums
from tests.support.live import Live
from tests.support.room import make_room


async def test_a_post_carries_approved_materials_of_its_project_only(live: Live) -> None:
    room = await make_room(live.http, live.services)
    other = await make_room(live.http, live.services, "o")
    journal = Forums(live.http, room)
    await journal.ok("teacher_admin", "PATCH", "/publishing", {"pupil_posts": "open"})
    first, second, theirs = (
        await image(live, room),
        await image(live, room),
        await image(live, other),
    )
    pending = await image(live, room, "pupil")
    pupil = await connect(live, room, "pupil")
    await pupil.ok("journal.subscribe")

    post = await journal.ok(
        "teacher", "POST", "/journal", {"body": "Our walk", "materials": [first, second, first]}
    )
    assert [(m["id"], m["kind"], m["title"]) for m in post["materials"]] == [
        (first, "image", "home.jpg"),
        (second, "image", "home.jpg"),
    ]
    [pushed] = await pupil.wait_for("journal.post.created")
    assert [m["id"] for m in pushed["post"]["materials"]] == [first, second]
    listed = await journal.ok("pupil", "GET", "/journal")
    assert [m["id"] for m in listed["posts"][0]["materials"]] == [first, second]

    # Refused whole, nothing written: another project's, a pending upload (even the pupil's
    # own), an unknown id, too many, materials on a comment.
    for role, body, code in (
        ("teacher", {"body": "x", "materials": [theirs]}, "not_found"),
        ("pupil", {"body": "x", "materials": [pending]}, "not_found"),
        ("teacher", {"body": "x", "materials": [999999]}, "not_found"),
        ("teacher", {"body": "x", "materials": list(range(1, 12))}, "validation_failed"),
        ("teacher", {"body": "x", "materials": [0]}, "validation_failed"),
    ):
        refused = await journal.call(role, "POST", "/journal", body)
        assert refused.json()["error"]["code"] == code, (role, body)
    comment = await journal.call(
        "pupil", "POST", f"/journal/{post['id']}/comments", {"body": "Nice", "materials": [first]}
    )
    assert comment.json()["error"]["code"] == "validation_failed"
    listed = await journal.ok("teacher", "GET", "/journal")
    assert [p["body"] for p in listed["posts"]] == ["Our walk"]

    # An edit replaces them (and says so live); a removed material stays, unavailable.
    changed = await journal.ok(
        "teacher", "PATCH", f"/journal/{post['id']}", {"materials": [second]}
    )
    assert [m["id"] for m in changed["materials"]] == [second] and changed["edited_at"]
    [edited] = await pupil.wait_for("journal.post.edited")
    assert [m["id"] for m in edited["post"]["materials"]] == [second]
    refused = await journal.call("pupil", "PATCH", f"/journal/{post['id']}", {"materials": []})
    assert refused.status_code == 403
    removed = await journal.call("teacher_admin", "DELETE", f"/materials/{second}")
    assert removed.status_code == 204, removed.text
    listed = await journal.ok("pupil", "GET", "/journal")
    assert listed["posts"][0]["materials"] == [
        {"id": None, "kind": None, "title": None, "available": False}
    ]
    # A deleted post keeps no materials.
    again = await journal.ok("teacher", "POST", "/journal", {"body": "Again", "materials": [first]})
    await journal.ok("teacher", "DELETE", f"/journal/{again['id']}")
    listed = await journal.ok("pupil", "GET", "/journal")
    tombstone = next(p for p in listed["posts"] if p["id"] == again["id"])
    assert tombstone["deleted"] and tombstone["materials"] == []
    await pupil.close()


async def test_the_showcase_shows_a_chosen_posts_images_as_published(live: Live) -> None:
    room = await make_room(live.http, live.services)
    journal = Forums(live.http, room)
    shown, later, unchosen = (
        await image(live, room),
        await image(live, room),
        await image(live, room),
    )
    post = await journal.ok("teacher", "POST", "/journal", {"body": "Heron", "materials": [shown]})
    await journal.ok("teacher", "POST", "/journal", {"body": "No", "materials": [unchosen]})
    await journal.ok(
        "teacher_admin",
        "PATCH",
        "/publishing",
        {"slug": "herons", "posts": [post["id"]], "showcase_on": True},
    )
    html = (await live.http.get("/p/herons")).text
    assert f'<img src="/p/herons/m/{shown}" alt=""' in html and "home.jpg" not in html
    assert (await live.http.get(f"/p/herons/m/{shown}")).status_code == 200
    assert (await live.http.get(f"/p/herons/m/{unchosen}")).status_code == 404
    # Attached after the choice: public only once the post is chosen again.
    await journal.ok("teacher", "PATCH", f"/journal/{post['id']}", {"materials": [shown, later]})
    assert (await live.http.get(f"/p/herons/m/{later}")).status_code == 404
    await journal.ok("teacher_admin", "PATCH", "/publishing", {"posts": [post["id"]]})
    assert (await live.http.get(f"/p/herons/m/{later}")).status_code == 200
    # A deleted post takes its images off the showcase.
    await journal.ok("teacher", "DELETE", f"/journal/{post['id']}")
    assert (await live.http.get(f"/p/herons/m/{shown}")).status_code == 404
