"""Forums with live updates over real sockets on one node: posting, resume, unread counts."""

from __future__ import annotations

import asyncio

from tests.chat.test_chat import connect
from tests.support.forums import Forums, stream_frames
from tests.support.live import Live
from tests.support.room import make_room


async def test_a_thread_and_replies_appear_live_in_order(live: Live) -> None:
    room = await make_room(live.http, live.services)
    forums = Forums(live.http, room)
    watchers = [await connect(live, room, role) for role in ("pupil", "observer", "teacher_admin")]
    for watcher in watchers:
        reply = await watcher.ok("forum.subscribe", streams={"forum": None})
        assert reply["streams"]["forum"]["recovered"] is True
    forum_id = await forums.forum()
    opened = await forums.thread(forum_id)
    thread_id = opened["thread"]["id"]
    first = await forums.reply(
        thread_id, "pupil", "Il **Tevere** passa per Roma <script>x</script>"
    )
    await forums.reply(thread_id, "pupil_admin", "Bizim nehrimiz Kızılırmak.", reply_to=first["id"])
    for watcher in watchers:
        frames = [f for f in await stream_frames(watcher, 4) if f["type"].startswith("forum.")]
        assert [f["type"] for f in frames] == [
            "forum.forum.created",
            "forum.thread.created",
            "forum.post.created",
            "forum.post.created",
        ]
        assert [f["seq"] for f in frames] == [1, 2, 3, 4]
        post = frames[2]["post"]
        assert post["body"].endswith("<script>x</script>")
        assert post["html"] == (
            "<p>Il <strong>Tevere</strong> passa per Roma &lt;script&gt;x&lt;/script&gt;</p>"
        )
        assert frames[3]["post"]["reply_to"] == first["id"]
        assert frames[3]["thread"]["post_count"] == 3
    # Moderation is live too, and lands in the audit log.
    await forums.ok("teacher", "PATCH", f"/threads/{thread_id}", {"pinned": True, "locked": True})
    await forums.ok("teacher", "DELETE", f"/posts/{first['id']}")
    kinds = [f["type"] for f in await stream_frames(watchers[0], 7)][4:]
    assert kinds == ["forum.thread.pinned", "forum.thread.locked", "forum.post.deleted"]
    log = await forums.ok("teacher_admin", "GET", "/audit")
    assert [e["action"] for e in log["entries"][:3]] == [
        "forum.post.delete",
        "forum.thread.locked",
        "forum.thread.pinned",
    ]
    assert log["entries"][0]["details"]["text"].startswith("Il **Tevere**")


async def test_offline_member_catches_up_and_sees_unread_counts(live: Live) -> None:
    room = await make_room(live.http, live.services)
    forums = Forums(live.http, room)
    forum_id = await forums.forum()
    thread_id = (await forums.thread(forum_id))["thread"]["id"]
    pupil = await connect(live, room, "pupil")
    await pupil.ok("forum.subscribe", streams={"forum": 0})
    [seen] = await pupil.wait_for("forum.thread.created")
    await forums.ok("pupil", "POST", f"/threads/{thread_id}/read", {"seq": seen["seq"]})
    await pupil.close()
    # While the pupil is away: three replies, a bulletin post, two chat messages.
    for i, role in enumerate(("teacher", "pupil_admin", "expert")):
        await forums.reply(thread_id, role, f"reply {i}")
    await forums.ok("teacher", "POST", "/bulletin", {"body": "Staff meeting on Friday"})
    teacher = await connect(live, room, "teacher")
    for i in range(2):
        await teacher.ok("chat.send", channel="general", text=f"chat {i}", key=f"c{i}")
    activity = await forums.ok("pupil", "GET", "/activity")
    assert activity["chat"] == {"general": 2, "pupils": 0}
    assert activity["threads"] == [
        {
            "thread_id": thread_id,
            "forum_id": forum_id,
            "title": "Rivers",
            "forum_title": "Our rivers",
            "unread": 3,
        }
    ]
    assert (activity["forum_unread"], activity["bulletin"]) == (3, None)
    staff = await forums.ok("teacher_admin", "GET", "/activity")
    assert staff["bulletin"] == 1 and staff["chat"]["general"] == 2
    back = await connect(live, room, "pupil")
    reply = await back.ok("forum.subscribe", streams={"forum": seen["seq"]})
    assert reply["streams"]["forum"] == {
        "recovered": True,
        "reason": None,
        "replayed": 3,
        "last_seq": seen["seq"] + 3,
    }
    replayed = back.of_type("forum.post.created")
    assert [p["post"]["body"] for p in replayed] == ["reply 0", "reply 1", "reply 2"]
    assert back.of_type("bulletin.post.created") == []
    # Live again, without a repeat; reading the thread clears its count.
    await forums.reply(thread_id, "teacher", "welcome back")
    await back.wait_for("forum.post.created", count=4)
    last = back.of_type("forum.post.created")[-1]
    await forums.ok("pupil", "POST", f"/threads/{thread_id}/read", {"seq": last["seq"]})
    assert (await forums.ok("pupil", "GET", "/activity"))["threads"] == []
    # A fence: a repeat would reach the pupil before a later reply.
    await forums.reply(thread_id, "teacher", "fence")
    await back.wait_for("forum.post.created", count=5)
    assert [p["post"]["body"] for p in back.of_type("forum.post.created")][3:] == [
        "welcome back",
        "fence",
    ]


async def test_bulletin_events_never_reach_pupils(live: Live) -> None:
    room = await make_room(live.http, live.services)
    forums = Forums(live.http, room)
    pupil = await connect(live, room, "pupil")
    refused = await pupil.request("forum.subscribe", streams={"forum": None, "bulletin": None})
    assert refused["type"] == "error" and refused["code"] == "forbidden"
    assert pupil.of_type("forum.forum.created") == []
    for streams in ({}, {"staff": None}, {"forum": -1}, ["forum"]):
        bad = await pupil.request("forum.subscribe", streams=streams)
        assert bad["code"] == "validation_failed", streams
    await pupil.ok("forum.subscribe", streams={"forum": None})
    teacher = await connect(live, room, "teacher")
    await teacher.ok("forum.subscribe", streams={"forum": None, "bulletin": 0})
    posted = await forums.ok("teacher_admin", "POST", "/bulletin", {"body": "For teachers"})
    await forums.forum()
    await teacher.wait_for("bulletin.post.created")
    await pupil.wait_for("forum.forum.created")
    assert [p["type"] for p in pupil.pushes if "bulletin" in str(p)] == []
    # Nor over REST, nor by guessing a post id.
    assert (await forums.call("pupil", "GET", "/bulletin")).status_code == 403
    for method, path in (("PATCH", "/posts/{}"), ("POST", "/posts/{}/report")):
        body = {"body": "x"} if method == "PATCH" else {"reason": "x"}
        response = await forums.call("pupil", method, path.format(posted["id"]), body)
        assert response.status_code == 404, response.text


async def test_a_resumed_replay_never_shows_a_deleted_posts_text(live: Live) -> None:
    room = await make_room(live.http, live.services)
    forums = Forums(live.http, room)
    thread_id = (await forums.thread(await forums.forum()))["thread"]["id"]
    rude = await forums.reply(thread_id, "pupil", "something rude")
    typo = await forums.reply(thread_id, "pupil_admin", "I lik it")
    await forums.ok("pupil_admin", "PATCH", f"/posts/{typo['id']}", {"body": "I like it"})
    await forums.ok("teacher", "DELETE", f"/posts/{rude['id']}")
    late = await connect(live, room, "pupil_admin")
    await late.ok("forum.subscribe", streams={"forum": 0})
    frames = await stream_frames(late, 6)
    assert [f["type"] for f in frames] == [
        "forum.forum.created",
        "forum.thread.created",
        "forum.post.created",
        "forum.post.created",
        "forum.post.edited",
        "forum.post.deleted",
    ]
    assert "rude" not in str(frames) and "I lik it" not in str(frames)
    assert frames[2]["post"]["deleted"]["by"] == room.user_ids["teacher"]


async def test_losing_bulletin_access_ends_the_subscription(live: Live) -> None:
    room = await make_room(live.http, live.services)
    forums = Forums(live.http, room)
    teacher = await connect(live, room, "teacher")
    await teacher.ok("forum.subscribe", streams={"forum": None, "bulletin": None})
    member = f"/members/{room.user_ids['teacher']}"
    for count, role in enumerate(("expert", "teacher"), start=1):
        await forums.ok("teacher_admin", "PATCH", member, {"role": role})
        await teacher.wait_for("room.changed", count=count)
        await forums.ok("teacher_admin", "POST", "/bulletin", {"body": f"while {role}"})
    await forums.forum()
    await teacher.wait_for("forum.forum.created")
    assert teacher.of_type("bulletin.post.created") == [], "not live, and not replayed later"
    again = await teacher.ok("forum.subscribe", streams={"bulletin": 0})
    assert again["streams"]["bulletin"]["replayed"] == 2


async def test_concurrent_replies_take_consecutive_seqs(live: Live) -> None:
    room = await make_room(live.http, live.services)
    forums = Forums(live.http, room)
    thread_id = (await forums.thread(await forums.forum()))["thread"]["id"]
    watcher = await connect(live, room, "observer")
    await watcher.ok("forum.subscribe", streams={"forum": 2})
    roles = ["pupil", "pupil_admin", "teacher", "expert"] * 10
    posted = await asyncio.gather(
        *[forums.reply(thread_id, role, f"at once {i}") for i, role in enumerate(roles)]
    )
    assert sorted(p["seq"] for p in posted) == list(range(3, 43))
    frames = await stream_frames(watcher, 40)
    # Concurrent writers publish independently, so frames may arrive out of order; by seq, each
    # arrives exactly once and carries the thread as it was after that post.
    assert [f["seq"] for f in frames] == list(range(3, 43)), "none missing, none twice"
    assert [f["thread"]["post_count"] for f in frames] == list(range(2, 42))
