"""The project journal over real sockets: review of pupils' posts, likes, comments, pins,
tombstones, reports, unread counts; live on one node and across two."""

from __future__ import annotations

from tests.chat.test_chat import connect
from tests.hub import test_cluster
from tests.support.forums import Forums, stream_frames
from tests.support.live import Live
from tests.support.room import make_room

shared_redis = test_cluster.shared_redis
cluster_settings = test_cluster.cluster_settings
two_nodes = test_cluster.two_nodes


def bodies(page: dict) -> list[str]:
    return [p["body"] for p in page["pinned"] + page["posts"]]


async def test_a_pupils_post_waits_for_a_teacher_then_everyone_sees_it(live: Live) -> None:
    room = await make_room(live.http, live.services)
    journal = Forums(live.http, room)
    teacher = await connect(live, room, "teacher")
    pupil_admin = await connect(live, room, "pupil_admin")
    assert (await teacher.ok("journal.subscribe"))["stream"] == "journal.mod"
    assert (await pupil_admin.ok("journal.subscribe"))["stream"] == "journal"
    pending = await journal.ok("pupil", "POST", "/journal", {"body": "We planted **trees**"})
    assert pending["state"] == "review"
    assert pending["html"] == "<p>We planted <strong>trees</strong></p>"
    # Its author and the teachers see it; other pupils do not, nor can they like or comment it.
    assert bodies(await journal.ok("pupil", "GET", "/journal")) == ["We planted **trees**"]
    assert bodies(await journal.ok("teacher", "GET", "/journal")) == ["We planted **trees**"]
    assert bodies(await journal.ok("pupil_admin", "GET", "/journal")) == []
    post = f"/journal/{pending['id']}"
    for method, path, body in (
        ("POST", f"{post}/like", {"on": True}),
        ("POST", f"{post}/comments", {"body": "Nice"}),
        ("GET", f"{post}/comments", None),
    ):
        assert (await journal.call("pupil_admin", method, path, body)).status_code == 404
    [seen] = await teacher.wait_for("journal.post.created")
    assert seen["post"]["state"] == "review"
    # A pupil cannot approve; a teacher does, audited, and now everyone sees it live.
    refused = await journal.call("pupil", "PATCH", post, {"approved": True})
    assert refused.status_code == 403
    await journal.ok("teacher", "PATCH", post, {"approved": True})
    [approved] = await pupil_admin.wait_for("journal.post.approved")
    assert approved["post"]["state"] == "published" and approved["seq"] == 1
    assert bodies(await journal.ok("pupil_admin", "GET", "/journal")) == ["We planted **trees**"]
    # Likes are idempotent; comments are one level; a deleted post takes no comments.
    for _ in range(2):
        liked = await journal.ok("pupil_admin", "POST", f"{post}/like", {"on": True})
    assert liked["likes"] == [room.user_ids["pupil_admin"]]
    comment = await journal.ok("expert", "POST", f"{post}/comments", {"body": "Bravo!"})
    nested_path = f"/journal/{comment['id']}/comments"
    nested = await journal.call("pupil", "POST", nested_path, {"body": "x"})
    assert nested.status_code == 422
    await journal.ok("teacher", "PATCH", post, {"pinned": True})
    kinds = [f["type"] for f in await stream_frames(pupil_admin, 4, prefix="journal.")]
    assert kinds == [
        "journal.post.approved",
        "journal.post.liked",
        "journal.comment.created",
        "journal.post.pinned",
    ]
    assert (await journal.ok("observer", "GET", "/journal"))["pinned"][0]["comment_count"] == 1
    # Reports go to the moderators; a moderator's deletion leaves a tombstone, audited.
    await journal.ok("pupil_admin", "POST", f"{post}/report", {"reason": "photo of a face"})
    [report] = await teacher.wait_for("journal.reported")
    assert report["post_id"] == pending["id"]
    await journal.ok("teacher", "DELETE", post)
    gone = await journal.call("pupil_admin", "POST", f"{post}/comments", {"body": "late"})
    assert gone.status_code == 410 and gone.json()["error"]["code"] == "post_deleted"
    [tombstone] = await pupil_admin.wait_for("journal.post.deleted")
    assert tombstone["post"]["body"] == "" and tombstone["post"]["deleted"] is not None
    # Resume replays the tombstone, never the deleted text.
    back = await connect(live, room, "pupil")
    ack = await back.ok("journal.subscribe", since=0)
    assert ack["replayed"] == ack["last_seq"] == 5
    replayed = [f for f in back.pushes if f["type"].startswith("journal.post")]
    assert all("trees" not in f["post"]["body"] for f in replayed)
    log = await journal.ok("teacher_admin", "GET", "/audit")
    actions = [e["action"] for e in log["entries"]]
    for action in ("journal.approve", "journal.pin", "journal.report", "journal.delete"):
        assert action in actions
    for client in (teacher, pupil_admin, back):
        await client.close()


async def test_posting_rights_follow_the_project_setting(live: Live) -> None:
    room = await make_room(live.http, live.services)
    journal = Forums(live.http, room)
    assert (await journal.call("observer", "POST", "/journal", {"body": "hi"})).status_code == 403
    for role in ("teacher", "expert", "pupil_admin"):
        assert (await journal.ok(role, "POST", "/journal", {"body": role}))["state"] == "published"
    await journal.ok("teacher_admin", "PATCH", "/publishing", {"pupil_posts": "off"})
    assert (await journal.call("pupil", "POST", "/journal", {"body": "hi"})).status_code == 403
    await journal.ok("teacher_admin", "PATCH", "/publishing", {"pupil_posts": "open"})
    assert (await journal.ok("pupil", "POST", "/journal", {"body": "hi"}))["state"] == "published"
    refused = await journal.call("teacher", "PATCH", "/publishing", {"pupil_posts": "open"})
    assert refused.status_code == 403
    too_long = await journal.call("teacher", "POST", "/journal", {"body": "x" * 10001})
    assert too_long.status_code == 422
    # "What's new": four posts by others for the pupil; none after reading the newest.
    activity = await journal.ok("pupil", "GET", "/activity")
    assert activity["journal"] == 3
    newest = (await journal.ok("pupil", "GET", "/journal"))["posts"][0]["id"]
    await journal.ok("pupil", "POST", "/journal/read", {"post_id": newest})
    assert (await journal.ok("pupil", "GET", "/activity"))["journal"] == 0


async def test_likes_and_comments_are_live_on_two_nodes(two_nodes: tuple[Live, Live]) -> None:
    a, b = two_nodes
    room = await make_room(a.http, a.services)
    on_a, on_b = Forums(a.http, room), Forums(b.http, room)
    pupil_b = await connect(b, room, "pupil")
    teacher_a = await connect(a, room, "teacher")
    await pupil_b.ok("journal.subscribe", since=0)
    await teacher_a.ok("journal.subscribe", since=0)
    post = await on_a.ok("teacher", "POST", "/journal", {"body": "Our exhibition"})
    await on_b.ok("pupil", "POST", f"/journal/{post['id']}/like", {"on": True})
    await on_a.ok("pupil_admin", "POST", f"/journal/{post['id']}/comments", {"body": "Great"})
    await on_b.ok("pupil", "POST", f"/journal/{post['id']}/like", {"on": False})
    for client in (pupil_b, teacher_a):
        frames = await stream_frames(client, 4, prefix="journal.")
        assert [f["type"] for f in frames] == [
            "journal.post.created",
            "journal.post.liked",
            "journal.comment.created",
            "journal.post.liked",
        ]
        assert [f["post"]["likes"] for f in (frames[1], frames[3])] == [
            [room.user_ids["pupil"]],
            [],
        ]
        await client.close()
