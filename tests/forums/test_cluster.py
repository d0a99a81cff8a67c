"""Forums on two nodes sharing PostgreSQL and Redis: live posts and catch-up across nodes."""

from __future__ import annotations

import asyncio

from tests.chat.test_chat import connect
from tests.hub import test_cluster
from tests.support.forums import Forums, stream_frames
from tests.support.live import Live, serve
from tests.support.redis_server import RedisServer
from tests.support.room import make_room
from tests.support.waiting import WAIT
from twinspace_rt.settings import Settings

# The two-node fixtures of the cluster tests: shared PostgreSQL, shared Redis.
shared_redis = test_cluster.shared_redis
cluster_settings = test_cluster.cluster_settings
two_nodes = test_cluster.two_nodes


async def test_posts_appear_live_on_both_nodes_and_resume_on_either(
    two_nodes: tuple[Live, Live],
) -> None:
    a, b = two_nodes
    room = await make_room(a.http, a.services)
    forums = Forums(a.http, room)
    on_b = Forums(b.http, room)
    pupil_b = await connect(b, room, "pupil")
    pupil_admin_a = await connect(a, room, "pupil_admin")
    teacher_b = await connect(b, room, "teacher")
    for client in (pupil_b, pupil_admin_a):
        await client.ok("forum.subscribe", streams={"forum": 0})
    await teacher_b.ok("forum.subscribe", streams={"forum": 0, "bulletin": 0})
    # A teacher opens a forum and a thread on node A; pupils of two schools reply on both nodes.
    thread_id = (await forums.thread(await forums.forum()))["thread"]["id"]
    for i in range(5):
        await forums.reply(thread_id, "pupil_admin", f"Bom dia {i}")
        await on_b.reply(thread_id, "pupil", f"Dzień dobry {i}")
    await on_b.ok("teacher_admin", "POST", "/bulletin", {"body": "Meeting at 16:00 CET"})
    for client in (pupil_b, pupil_admin_a, teacher_b):
        frames = await stream_frames(client, 12)
        assert [f["seq"] for f in frames] == list(range(1, 13))
        assert [f["post"]["body"] for f in frames[2:]] == [
            text for i in range(5) for text in (f"Bom dia {i}", f"Dzień dobry {i}")
        ]
    [bulletin] = await teacher_b.wait_for("bulletin.post.created")
    assert bulletin["seq"] == 1 and bulletin["stream"] == "bulletin"
    # The pupil on node B goes offline; replies continue on node A; it comes back on node A.
    await pupil_b.close()
    for i in range(3):
        await forums.reply(thread_id, "teacher", f"while you were away {i}")
    activity = await forums.ok("pupil", "GET", "/activity")
    # The opening post, pupil_admin's five replies and the teacher's three: not their own.
    assert activity["threads"][0]["unread"] == 1 + 5 + 3
    back = await connect(a, room, "pupil")
    reply = await back.ok("forum.subscribe", streams={"forum": 12})
    assert reply["streams"]["forum"]["replayed"] == 3
    await on_b.reply(thread_id, "pupil_admin", "welcome back")
    frames = await stream_frames(back, 4)
    assert [f["seq"] for f in frames] == [13, 14, 15, 16]
    # A fence: a repeat would reach the pupil before a later reply.
    await forums.reply(thread_id, "teacher", "fence")
    frames = await stream_frames(back, 5)
    assert [f["seq"] for f in frames] == [13, 14, 15, 16, 17]
    assert len(back.of_type("forum.post.created")) == 5
    assert [p for p in pupil_admin_a.pushes + back.pushes if p["type"].startswith("bulletin")] == []


async def test_forum_changes_missed_during_a_redis_outage_are_replayed(
    cluster_settings: Settings,
) -> None:
    private = RedisServer()
    await private.start()
    settings = cluster_settings.model_copy(update={"redis_url": private.url})
    try:
        async with serve(settings) as a, serve(settings) as b:
            room = await make_room(a.http, a.services)
            forums = Forums(a.http, room)
            thread_id = (await forums.thread(await forums.forum()))["thread"]["id"]
            teacher = await connect(b, room, "teacher")
            await teacher.ok("forum.subscribe", streams={"forum": 0, "bulletin": 0})
            await stream_frames(teacher, 2)
            await private.kill()
            async with asyncio.timeout(WAIT):
                while (await a.http.get("/readyz")).status_code != 503:
                    await asyncio.sleep(0.05)
            for i in range(3):
                await forums.reply(thread_id, "pupil", f"during {i}")
            await forums.ok("teacher_admin", "POST", "/bulletin", {"body": "during the outage"})
            await private.start()
            # Node B replays, from the store, every change its socket was not sent.
            frames = await stream_frames(teacher, 5)
            assert [f["seq"] for f in frames] == [1, 2, 3, 4, 5]
            [bulletin] = await teacher.wait_for("bulletin.post.created")
            assert bulletin["post"]["body"] == "during the outage"
    finally:
        await private.kill()
