"""Shared documents across crashes and nodes: kill -9 mid-stream, two nodes on Redis."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.documents.test_documents import bound, content, new_doc, open_doc, stored_text, token
from tests.hub.test_cluster import cluster_settings, shared_redis, two_nodes  # noqa: F401
from tests.support.live import Live, NodeProcess, serve
from tests.support.redis_server import RedisServer
from tests.support.room import make_room
from tests.support.waiting import WAIT
from tests.support.yjs_client import YjsClient
from twinspace_rt.settings import Settings

EDITS = 400


def node_env(settings: Settings, data_dir: Path) -> dict[str, str]:
    env = {
        "TWINSPACE_DATA_DIR": str(data_dir),
        "TWINSPACE_DATABASE_URL": str(settings.database_url),
        "TWINSPACE_SECRET_KEY": settings.signing_key,
        "TWINSPACE_LOG_LEVEL": "warning",
    }
    if settings.redis_url:
        env["TWINSPACE_REDIS_URL"] = settings.redis_url
        env["TWINSPACE_REDIS_PREFIX"] = settings.redis_prefix
    return env


async def stream_until_killed(
    writer: YjsClient, reader: YjsClient, node: NodeProcess, on_node: list[YjsClient]
) -> list[str]:
    """The writer streams numbered words; the node dies once the reader has seen some.

    Returns the words the reader received: each was relayed, so each must have been stored.
    """
    words = [f"w{i};" for i in range(EDITS)]

    async def stream() -> None:
        for word in words:
            try:
                await writer.type(word)
            except Exception:
                return  # the node is gone
            await asyncio.sleep(0.002)

    streaming = asyncio.create_task(stream())
    await reader.until(lambda: str(reader.text).count(";") >= 40)
    node.kill()
    await streaming
    for client in on_node:
        await client.closed()
    seen = [w for w in str(reader.text).split(";") if w]
    assert 40 <= len(seen) < EDITS, "killed mid-stream"
    return seen


async def test_kill_9_loses_no_update_another_client_received(
    settings: Settings, tmp_path: Path
) -> None:
    async with serve(settings) as helper:
        room = await make_room(helper.http, helper.services)
        doc = await new_doc(helper, room)
        node = NodeProcess(node_env(settings, tmp_path / "node"), tmp_path)
        try:
            await node.ready()
            writer = await open_doc(Live(node.url, helper.services, helper.http), room, "pupil")
            reader = await open_doc(Live(node.url, helper.services, helper.http), room, "teacher")
            seen = await stream_until_killed(writer, reader, node, [writer, reader])
        finally:
            node.stop()
        stored = await content(helper, room, doc["id"])
    survivors = [w for w in stored.split(";") if w]
    assert set(seen) <= set(survivors), "an update the reader had received was lost"
    # A restarted node serves the same content to a new client.
    async with serve(settings) as restarted:
        late = await open_doc(restarted, room, "pupil_admin")
        assert str(late.text) == stored


async def test_editors_on_two_nodes_converge(two_nodes: tuple[Live, Live]) -> None:  # noqa: F811
    a, b = two_nodes
    room = await make_room(a.http, a.services)
    doc = await new_doc(a, room)
    on_a = await open_doc(a, room, "pupil")
    on_b = await open_doc(b, room, "teacher")
    for i in range(30):
        await on_a.type(f"a{i} ")
        await on_b.type(f"b{i} ")
    expected = sum(len(f"a{i} ") + len(f"b{i} ") for i in range(30))
    for client in (on_a, on_b):
        await client.until(lambda c=client: len(str(c.text)) == expected)
    assert str(on_a.text) == str(on_b.text)
    await stored_text(a, room, doc["id"], str(on_a.text))
    # Awareness crosses nodes, and leaves with the socket.
    await on_a.set_cursor({"name": "Ana"})
    named = bound(room, "pupil", {"name": "Ana"})
    await on_b.until(lambda: named in on_b.others().values())
    await on_a.close()
    await on_b.until(lambda: not on_b.others())
    # A latecomer on the other node gets everything from its own replica.
    late = await open_doc(b, room, "expert")
    assert str(late.text) == str(on_b.text)


async def test_a_node_killed_mid_edit_loses_nothing_the_other_side_saw(
    cluster_settings: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    async with serve(cluster_settings) as b:
        room = await make_room(b.http, b.services)
        doc = await new_doc(b, room)
        node_a = NodeProcess(node_env(cluster_settings, tmp_path / "a"), tmp_path)
        try:
            await node_a.ready()
            reader = await open_doc(b, room, "teacher")
            writer = await YjsClient.connect(
                node_a.url, room.project_id, "story", token(room, "pupil")
            )
            seen = await stream_until_killed(writer, reader, node_a, [writer])
        finally:
            node_a.stop()
        stored = await content(b, room, doc["id"])
    assert set(seen) <= {w for w in stored.split(";") if w}


async def test_after_a_redis_restart_each_node_catches_up_from_the_store(
    cluster_settings: Settings,  # noqa: F811
) -> None:
    private = RedisServer()
    await private.start()
    settings = cluster_settings.model_copy(update={"redis_url": private.url})
    try:
        async with serve(settings) as a, serve(settings) as b:
            room = await make_room(a.http, a.services)
            await new_doc(a, room)
            on_a = await open_doc(a, room, "pupil")
            on_b = await open_doc(b, room, "teacher")
            await on_a.type("before ")
            await on_b.until(lambda: str(on_b.text) == "before ")
            await private.kill()
            async with asyncio.timeout(WAIT):
                while (await a.http.get("/readyz")).status_code != 503:
                    await asyncio.sleep(0.05)
            await on_a.type("during ")  # stored and relayed on node a only
            await on_b.type("meanwhile ")
            await private.start()
            for client in (on_a, on_b):
                await client.until(
                    lambda c=client: "during" in str(c.text) and "meanwhile" in str(c.text)
                )
            assert str(on_a.text) == str(on_b.text)
    finally:
        await private.kill()
