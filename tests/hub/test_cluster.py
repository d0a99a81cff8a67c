"""Several nodes sharing PostgreSQL and Redis: delivery, presence, room changes, failures."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.chat.test_chat import connect
from tests.support.live import HubClient, Live, NodeProcess, serve
from tests.support.redis_server import RedisServer
from tests.support.room import make_room
from tests.support.services import require_shared_redis
from tests.support.waiting import WAIT, eventually, eventually_async
from twinspace_rt.settings import Settings


@pytest.fixture
async def shared_redis() -> str:
    return await require_shared_redis()


@pytest.fixture
def cluster_settings(settings: Settings, pg_database_url: str, shared_redis: str) -> Settings:
    return settings.model_copy(
        update={
            "database_url": pg_database_url,
            "redis_url": shared_redis,
            "redis_prefix": f"test-{uuid.uuid4().hex[:8]}",
            "presence_ttl_seconds": 6,
        }
    )


@pytest.fixture
async def two_nodes(cluster_settings: Settings) -> AsyncIterator[tuple[Live, Live]]:
    async with serve(cluster_settings) as a, serve(cluster_settings) as b:
        yield a, b


async def test_a_message_sent_on_one_node_reaches_the_other(two_nodes: tuple[Live, Live]) -> None:
    a, b = two_nodes
    room = await make_room(a.http, a.services)
    teacher = await connect(a, room, "teacher")
    pupil = await connect(b, room, "pupil")
    neighbour = await connect(a, room, "pupil_admin")
    for client in (pupil, neighbour):
        await client.ok("chat.subscribe", channels={"general": None})
    for i in range(50):
        await teacher.ok("chat.send", channel="general", text=f"hello {i}", key=f"k{i}")
    for client in (pupil, neighbour):
        pushes = await client.wait_for("chat.message", count=50)
        assert [p["message"]["seq"] for p in pushes] == list(range(1, 51))
    # Presence merges across the nodes: everyone sees all three people.
    users = {room.user_ids[r] for r in ("teacher", "pupil", "pupil_admin")}
    await eventually(lambda: {u["user_id"] for u in _present(pupil)} == users)
    for node in (a, b):
        ready = await node.http.get("/readyz")
        assert ready.json()["checks"] == {
            "database": "ok",
            "broker": "ok",
            "blob_store": "ok",
        }


async def _ready(node: Live) -> bool:
    return (await node.http.get("/readyz")).status_code == 200


def _present(client: HubClient) -> list[dict]:
    """The users a client currently believes present, from its state and the diffs after it."""
    users = {u["user_id"]: u for u in client.of_type("presence.state")[-1]["users"]}
    for frame in client.pushes:
        if frame["type"] in ("presence.join", "presence.update"):
            users[frame["user"]["user_id"]] = frame["user"]
        elif frame["type"] == "presence.leave":
            users.pop(frame["user"]["user_id"], None)
    return list(users.values())


async def test_a_connection_gets_only_its_own_projects_events(two_nodes: tuple[Live, Live]) -> None:
    a, b = two_nodes
    one = await make_room(a.http, a.services, "one")
    two = await make_room(a.http, a.services, "two")
    sender = await connect(a, one, "teacher")
    outsider = await connect(b, two, "teacher")
    await outsider.ok(
        "chat.subscribe", channels={"general": None, "pupils": None, "teachers": None}
    )
    insider = await connect(b, one, "teacher")
    await insider.ok("chat.subscribe", channels={"general": None})
    await sender.ok("chat.send", channel="general", text="only for project one", key="x")
    await insider.wait_for("chat.message")
    await outsider.ok("ping")
    assert outsider.of_type("chat.message") == []
    assert "one-" not in str([u for u in _present(outsider)])


async def test_room_changes_reach_sockets_on_every_node(two_nodes: tuple[Live, Live]) -> None:
    a, b = two_nodes
    room = await make_room(a.http, a.services)
    expert = await connect(b, room, "expert")
    removed = await a.http.delete(
        f"/api/projects/{room.project_id}/members/{room.user_ids['expert']}",
        headers=room.headers["teacher_admin"],
    )
    assert removed.status_code == 204
    assert await expert.closed() == 4403


async def test_a_killed_node_leaves_no_ghosts(cluster_settings: Settings, tmp_path: Path) -> None:
    env = {
        "TWINSPACE_DATA_DIR": str(tmp_path / "node-a"),
        "TWINSPACE_DATABASE_URL": str(cluster_settings.database_url),
        "TWINSPACE_REDIS_URL": str(cluster_settings.redis_url),
        "TWINSPACE_REDIS_PREFIX": cluster_settings.redis_prefix,
        "TWINSPACE_PRESENCE_TTL_SECONDS": str(cluster_settings.presence_ttl_seconds),
        "TWINSPACE_SECRET_KEY": cluster_settings.signing_key,
        "TWINSPACE_LOG_LEVEL": "warning",
    }
    node_a = NodeProcess(env, tmp_path)
    try:
        await node_a.ready()
        async with serve(cluster_settings) as b:
            room = await make_room(b.http, b.services)
            teacher = await connect(b, room, "teacher")
            await connect(node_a, room, "pupil")
            [joined] = await teacher.wait_for("presence.join")
            assert joined["user"]["user_id"] == room.user_ids["pupil"]
            node_a.kill()
            # Only the TTL can remove the pupil from node B's view: node A never said goodbye.
            # (When, in seconds, is not asserted: a busy machine makes every clock late.)
            [left] = await teacher.wait_for("presence.leave")
            assert left["user"]["user_id"] == room.user_ids["pupil"]
    finally:
        node_a.stop()


async def test_redis_restart_loses_no_acknowledged_message(cluster_settings: Settings) -> None:
    private = RedisServer()
    await private.start()
    settings = cluster_settings.model_copy(update={"redis_url": private.url})
    try:
        async with serve(settings) as a, serve(settings) as b:
            room = await make_room(a.http, a.services)
            teacher = await connect(a, room, "teacher")
            pupil = await connect(b, room, "pupil")
            await pupil.ok("chat.subscribe", channels={"general": 0})
            await teacher.ok("chat.send", channel="general", text="before", key="b")
            await pupil.wait_for("chat.message")
            await private.kill()
            for node in (a, b):
                async with asyncio.timeout(WAIT):
                    while (await node.http.get("/readyz")).status_code != 503:
                        await asyncio.sleep(0.05)
                assert (await node.http.get("/readyz")).json()["checks"]["broker"] != "ok"
            acked = [
                await teacher.ok("chat.send", channel="general", text=f"during {i}", key=f"d{i}")
                for i in range(20)
            ]
            assert [r["seq"] for r in acked] == list(range(2, 22))
            await private.start()
            await teacher.ok("chat.send", channel="general", text="after", key="after")
            # The server replays what the pupil's node missed: the client does nothing.
            await pupil.wait_for("chat.message", count=22)
            # A fence: a duplicate of the replay would have to overtake a later message.
            await teacher.ok("chat.send", channel="general", text="fence", key="fence")
            await pupil.wait_for("chat.message", count=23)
            received = sorted(
                (p["message"]["seq"], p["message"]["text"]) for p in pupil.of_type("chat.message")
            )
            expected = ["before"] + [f"during {i}" for i in range(20)] + ["after", "fence"]
            assert received == list(enumerate(expected, start=1)), "each once, none lost"
            for node in (a, b):
                await eventually_async(functools.partial(_ready, node))
    finally:
        await private.kill()
