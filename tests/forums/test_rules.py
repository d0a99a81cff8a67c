"""Who may do what in the forums and on the bulletin, and bad input refused whole."""

from __future__ import annotations

from tests.chat.test_chat import connect
from tests.support.forums import Forums
from tests.support.live import Live, serve
from tests.support.room import make_room
from twinspace_rt.settings import Settings

ROLES = ("teacher_admin", "teacher", "expert", "observer", "pupil_admin", "pupil")
# Written out, not derived from the policy table, so that a wrong table or a missing check fails.
ALLOWED = {
    "create_forum": {"teacher_admin"},
    "update_forum": {"teacher_admin"},
    "open_thread": {"teacher_admin", "teacher", "expert", "pupil_admin"},
    "reply": {"teacher_admin", "teacher", "expert", "pupil_admin", "pupil"},
    "react": {"teacher_admin", "teacher", "expert", "pupil_admin", "pupil"},
    "report": set(ROLES),
    "read_forum": set(ROLES),
    "pin": {"teacher_admin", "teacher"},
    "lock": {"teacher_admin", "teacher"},
    "move": {"teacher_admin", "teacher"},
    "edit_others_post": {"teacher_admin", "teacher"},
    "delete_others_post": {"teacher_admin", "teacher"},
    "read_bulletin": {"teacher_admin", "teacher"},
    "post_bulletin": {"teacher_admin", "teacher"},
    "delete_others_bulletin_post": {"teacher_admin"},
    "subscribe_bulletin": {"teacher_admin", "teacher"},
}


async def test_every_role_against_every_forum_action(live: Live) -> None:
    room = await make_room(live.http, live.services)
    f = Forums(live.http, room)
    forum_id = await f.forum()
    other_forum = await f.forum("Elsewhere")
    allowed: dict[str, set[str]] = {action: set() for action in ALLOWED}

    def record(action: str, role: str, status: int) -> None:
        assert status in (200, 201, 204, 403), (action, role, status)
        if status != 403:
            allowed[action].add(role)

    for role in ROLES:
        thread_id = (await f.thread(forum_id, title=f"for {role}"))["thread"]["id"]
        author = "pupil_admin" if role == "pupil" else "pupil"
        target = await f.reply(thread_id, author, "a post by someone else")
        target_bulletin = await f.ok(
            "teacher" if role == "teacher_admin" else "teacher_admin",
            "POST",
            "/bulletin",
            {"body": "staff only"},
        )
        calls = {
            "create_forum": ("POST", "/forums", {"title": f"by {role}"}),
            "update_forum": ("PATCH", f"/forums/{forum_id}", {"description": role}),
            "open_thread": ("POST", f"/forums/{forum_id}/threads", {"title": "t", "body": "b"}),
            "reply": ("POST", f"/threads/{thread_id}/posts", {"body": "my reply"}),
            "react": ("POST", f"/posts/{target['id']}/reactions", {"emoji": "👍"}),
            "report": ("POST", f"/posts/{target['id']}/report", {"reason": "checking"}),
            "read_forum": ("GET", f"/threads/{thread_id}/posts", None),
            "pin": ("PATCH", f"/threads/{thread_id}", {"pinned": True}),
            "lock": ("PATCH", f"/threads/{thread_id}", {"locked": True}),
            "move": ("PATCH", f"/threads/{thread_id}", {"forum_id": other_forum}),
            "edit_others_post": ("PATCH", f"/posts/{target['id']}", {"body": "moderated"}),
            "delete_others_post": ("DELETE", f"/posts/{target['id']}", None),
            "read_bulletin": ("GET", "/bulletin", None),
            "post_bulletin": ("POST", "/bulletin", {"body": "hello colleagues"}),
            "delete_others_bulletin_post": ("DELETE", f"/posts/{target_bulletin['id']}", None),
        }
        for action, (method, path, body) in calls.items():
            response = await f.call(role, method, path, body)
            if action == "delete_others_bulletin_post" and role not in ALLOWED["read_bulletin"]:
                # A pupil or guest cannot even see that a bulletin post exists.
                assert response.status_code == 404, response.text
                continue
            record(action, role, response.status_code)
        client = await connect(live, room, role)
        reply = await client.request("forum.subscribe", streams={"bulletin": None})
        record("subscribe_bulletin", role, 200 if reply["type"] == "ack" else 403)
        await client.close()
    assert allowed == ALLOWED


async def test_teachers_delete_only_their_own_bulletin_posts(live: Live) -> None:
    room = await make_room(live.http, live.services)
    f = Forums(live.http, room)
    mine = await f.ok("teacher", "POST", "/bulletin", {"body": "mine"})
    deleted = await f.ok("teacher", "DELETE", f"/posts/{mine['id']}")
    assert deleted["deleted"]["by"] == room.user_ids["teacher"] and deleted["body"] == ""
    page = await f.ok("teacher_admin", "GET", "/bulletin")
    assert [p["body"] for p in page["posts"]] == [""], "a tombstone keeps its place"


async def test_bad_input_is_refused_whole(live: Live) -> None:
    room = await make_room(live.http, live.services)
    other = await make_room(live.http, live.services, "other")
    f = Forums(live.http, room)
    forum_id = await f.forum()
    foreign_forum = await Forums(live.http, other).forum()
    opened = await f.thread(forum_id)
    thread_id = opened["thread"]["id"]
    first = await f.reply(thread_id, "pupil", "first")
    watcher = await connect(live, room, "teacher_admin")
    before = (await watcher.ok("forum.subscribe", streams={"forum": None}))["streams"]["forum"]

    async def refused(role: str, method: str, path: str, body: object, code: str) -> None:
        response = await f.call(role, method, path, body)
        assert response.json()["error"]["code"] == code, (path, body, response.text)
        assert 400 <= response.status_code < 500

    threads = f"/forums/{forum_id}/threads"
    posts = f"/threads/{thread_id}/posts"
    await refused(
        "teacher", "POST", threads, {"title": "x" * 201, "body": "b"}, "validation_failed"
    )
    await refused(
        "teacher", "POST", threads, {"title": "t", "body": "b" * 20001}, "validation_failed"
    )
    await refused("teacher", "POST", threads, {"title": "t", "body": "  \n "}, "validation_failed")
    await refused("teacher", "POST", threads, {"title": "t\x07", "body": "b"}, "validation_failed")
    await refused(
        "teacher", "POST", threads, {"title": "t", "body": "b", "x": 1}, "validation_failed"
    )
    await refused("pupil", "POST", threads, {"title": "mine", "body": "b"}, "forbidden")
    await refused(
        "teacher",
        "POST",
        f"/forums/{foreign_forum}/threads",
        {"title": "t", "body": "b"},
        "not_found",
    )
    await refused(
        "teacher", "PATCH", f"/threads/{thread_id}", {"forum_id": foreign_forum}, "not_found"
    )
    await refused(
        "pupil", "PATCH", f"/posts/{first['id']}", {"body": "b" * 20001}, "validation_failed"
    )
    await f.ok("teacher", "DELETE", f"/posts/{first['id']}")
    await refused(
        "pupil_admin", "POST", posts, {"body": "re", "reply_to": first["id"]}, "post_deleted"
    )
    other_thread = (await f.thread(forum_id, title="Other"))["thread"]["id"]
    elsewhere = await f.reply(other_thread, "pupil", "elsewhere")
    await refused("pupil", "POST", posts, {"body": "re", "reply_to": elsewhere["id"]}, "not_found")
    await f.ok("teacher", "PATCH", f"/threads/{thread_id}", {"locked": True})
    await refused("pupil", "POST", posts, {"body": "still here?"}, "thread_locked")
    assert (await f.reply(thread_id, "teacher", "moderators may"))["body"] == "moderators may"
    # Nothing half-written: the refused requests took no seq, and the thread holds what it held.
    late = await connect(live, room, "pupil")
    after = await late.ok("forum.subscribe", streams={"forum": before["last_seq"]})
    replayed = [p["type"] for p in late.pushes if p["type"].startswith("forum.")]
    assert replayed == [
        "forum.post.deleted",
        "forum.thread.created",
        "forum.post.created",
        "forum.thread.locked",
        "forum.post.created",
    ]
    assert after["streams"]["forum"]["last_seq"] == before["last_seq"] + 5
    thread = await f.ok("pupil", "GET", f"/threads/{thread_id}")
    assert (thread["forum_id"], thread["post_count"]) == (forum_id, 3)


async def test_edit_window_reactions_and_reports(settings: Settings) -> None:
    """Within the window (the default 15 minutes), then past it: a second server on the same
    database whose window is 0 s, so no test has to beat a clock."""
    async with serve(settings) as live:
        room = await make_room(live.http, live.services)
        f = Forums(live.http, room)
        thread_id = (await f.thread(await f.forum()))["thread"]["id"]
        post = await f.reply(thread_id, "pupil", "I lik rivers")
        edited = await f.ok("pupil", "PATCH", f"/posts/{post['id']}", {"body": "I *like* rivers"})
        assert edited["edited_at"] and edited["html"] == "<p>I <em>like</em> rivers</p>"
        moderator = await connect(live, room, "teacher")
        reacted = await f.ok(
            "pupil_admin", "POST", f"/posts/{post['id']}/reactions", {"emoji": "🌊"}
        )
        assert reacted["reactions"] == {"🌊": [room.user_ids["pupil_admin"]]}
        again = await f.ok("pupil_admin", "POST", f"/posts/{post['id']}/reactions", {"emoji": "🌊"})
        assert again["version"] == reacted["version"], "a repeated reaction changes nothing"
        report = await f.ok(
            "pupil_admin", "POST", f"/posts/{post['id']}/report", {"reason": "rude"}
        )
        [pushed] = await moderator.wait_for("forum.reported")
        assert (pushed["report_id"], pushed["post_id"]) == (report["report_id"], post["id"])
    async with serve(settings.model_copy(update={"chat_edit_window_seconds": 0})) as live:
        f = Forums(live.http, room)
        late = await f.call("pupil", "PATCH", f"/posts/{post['id']}", {"body": "late"})
        assert late.json()["error"]["code"] == "edit_window_passed"
        late = await f.call("pupil", "DELETE", f"/posts/{post['id']}")
        assert late.json()["error"]["code"] == "edit_window_passed"
        fixed = await f.ok("teacher", "PATCH", f"/posts/{post['id']}", {"body": "I like rivers."})
        assert fixed["body"] == "I like rivers."
        log = await f.ok("teacher_admin", "GET", "/audit")
        assert [e["action"] for e in log["entries"][:2]] == ["forum.post.edit", "forum.report"]


async def test_an_archived_project_is_read_only(live: Live) -> None:
    room = await make_room(live.http, live.services)
    f = Forums(live.http, room)
    thread_id = (await f.thread(await f.forum()))["thread"]["id"]
    await f.ok("teacher_admin", "PATCH", "", {"status": "archived"})
    refused = await f.call("pupil", "POST", f"/threads/{thread_id}/posts", {"body": "hi"})
    assert refused.json()["error"]["code"] == "read_only"
    assert len((await f.ok("pupil", "GET", f"/threads/{thread_id}/posts"))["posts"]) == 1
