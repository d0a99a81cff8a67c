"""The page tree over REST: nesting, order, rights, and bad input refused whole."""

from __future__ import annotations

import httpx

from tests.support.forums import Forums
from tests.support.room import make_room
from twinspace_rt.services import Services


async def test_pages_nest_three_levels_and_keep_their_order(
    client: httpx.AsyncClient, services: Services
) -> None:
    room = await make_room(client, services)
    pages = Forums(client, room)
    plan = await pages.ok("teacher_admin", "POST", "/pages", {"title": "Project plan"})
    school = await pages.ok("teacher_admin", "POST", "/pages", {"title": "Our schools"})
    lisbon = await pages.ok(
        "teacher_admin", "POST", "/pages", {"title": "Lisboa", "parent_id": school["id"]}
    )
    class_a = await pages.ok(
        "teacher_admin", "POST", "/pages", {"title": "Class 7A", "parent_id": lisbon["id"]}
    )
    assert (plan["state"], plan["visibility"]) == ("draft", "all")
    # A fourth level, a cycle, a move that would make a subtree too deep: refused, nothing moved.
    for body, page in (
        ({"title": "Too deep", "parent_id": class_a["id"]}, None),
        ({"parent_id": class_a["id"]}, school["id"]),
        ({"parent_id": lisbon["id"]}, school["id"]),
        ({"parent_id": plan["id"]}, school["id"]),
    ):
        method, path = ("POST", "/pages") if page is None else ("PATCH", f"/pages/{page}")
        refused = await pages.call("teacher_admin", method, path, body)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "tree_invalid"
    # Reorder: the plan goes after the schools; a top-level move of Lisboa goes first.
    await pages.ok("teacher_admin", "PATCH", f"/pages/{plan['id']}", {"position": 1})
    await pages.ok(
        "teacher_admin", "PATCH", f"/pages/{lisbon['id']}", {"parent_id": None, "position": 0}
    )
    menu = await pages.ok("teacher_admin", "GET", "/pages")
    assert [(p["title"], p["parent_id"], p["position"]) for p in menu["pages"]] == [
        ("Lisboa", None, 0),
        ("Class 7A", lisbon["id"], 0),
        ("Our schools", None, 1),
        ("Project plan", None, 2),
    ]
    # Reordering among three siblings keeps one position each.
    await pages.ok("teacher_admin", "PATCH", f"/pages/{lisbon['id']}", {"position": 1})
    menu = await pages.ok("teacher_admin", "GET", "/pages")
    top = [(p["title"], p["position"]) for p in menu["pages"] if p["parent_id"] is None]
    assert top == [("Our schools", 0), ("Lisboa", 1), ("Project plan", 2)]
    # Lisboa (two levels) fits under the plan; the plan, three levels now, not under the schools.
    await pages.ok("teacher_admin", "PATCH", f"/pages/{lisbon['id']}", {"parent_id": plan["id"]})
    too_deep = await pages.call(
        "teacher_admin", "PATCH", f"/pages/{plan['id']}", {"parent_id": school["id"]}
    )
    assert too_deep.json()["error"]["code"] == "tree_invalid"
    refused = await pages.call("teacher_admin", "DELETE", f"/pages/{lisbon['id']}")
    assert refused.status_code == 409  # it has a subpage
    await pages.ok("teacher_admin", "DELETE", f"/pages/{class_a['id']}")
    await pages.ok("teacher_admin", "PATCH", f"/pages/{plan['id']}", {"parent_id": school["id"]})
    menu = await pages.ok("teacher_admin", "GET", "/pages")
    assert [p["title"] for p in menu["pages"]] == ["Our schools", "Project plan", "Lisboa"]


async def test_bad_input_and_rights(client: httpx.AsyncClient, services: Services) -> None:
    room = await make_room(client, services)
    other = await make_room(client, services, prefix="o")
    pages = Forums(client, room)
    elsewhere = await Forums(client, other).ok("teacher_admin", "POST", "/pages", {"title": "X"})
    page = await pages.ok("teacher_admin", "POST", "/pages", {"title": "Plan"})
    for body in (
        {"title": "x" * 121},
        {"title": "   "},
        {"title": "bell\x07"},
        {"title": "ok", "visibility": "pupils"},
        {"title": "ok", "colour": "red"},
    ):
        refused = await pages.call("teacher_admin", "POST", "/pages", body)
        assert refused.status_code == 422, body
        assert refused.json()["error"]["code"] == "validation_failed"
    # Another project's page is no page here, as a parent or a target.
    for method, path, body in (
        ("POST", "/pages", {"title": "Moved", "parent_id": elsewhere["id"]}),
        ("PATCH", f"/pages/{page['id']}", {"parent_id": elsewhere["id"]}),
        ("PATCH", f"/pages/{elsewhere['id']}", {"title": "Mine now"}),
    ):
        refused = await pages.call("teacher_admin", method, path, body)
        assert refused.status_code == 404, refused.text
    # Only teacher administrators create, move, publish and delete.
    for role in ("teacher", "pupil_admin", "pupil", "expert", "observer"):
        refused = await pages.call(role, "POST", "/pages", {"title": "Mine"})
        assert refused.status_code == 403, role
        refused = await pages.call(role, "PATCH", f"/pages/{page['id']}", {"state": "published"})
        assert refused.status_code in (403, 404), role
    log = await pages.ok("teacher_admin", "GET", "/audit")
    assert [e["action"] for e in log["entries"]][:1] == ["page.create"]
    menu = await pages.ok("teacher_admin", "GET", "/pages")
    assert [p["title"] for p in menu["pages"]] == ["Plan"]
