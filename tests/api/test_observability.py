"""`/metrics` on a real node after real activity: every family the dashboard charts is there,
with the values that activity implies."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
from collections.abc import Callable
from pathlib import Path

import websockets
from prometheus_client.parser import text_string_to_metric_families

from tests.chat.test_chat import connect, token
from tests.documents.test_documents import new_doc, open_doc, stored_text
from tests.support.live import HubClient, Live, serve
from tests.support.redis_server import RedisServer
from tests.support.room import make_room
from tests.support.waiting import WAIT
from twinspace_rt.settings import Settings

ROOT = Path(__file__).resolve().parents[2]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(live: Live) -> Samples:
    response = await live.http.get("/metrics")
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def until(live: Live, check: Callable[[Samples], bool]) -> Samples:
    """Background work (versions, unloads) runs a moment after what caused it: poll, bounded."""
    async with asyncio.timeout(WAIT):
        while not check(samples := await scrape(live)):
            await asyncio.sleep(0.1)
    return samples


def grew_from(before: Samples, now: Samples, job: str) -> bool:
    name = "twinspace_background_jobs_total"
    return value(now, name, job=job, outcome="ok") > value(before, name, job=job, outcome="ok")


async def overflow_a_socket(live: Live, project_id: int, pupil_token: str) -> None:
    """A tablet that stopped reading asks for history pages until its buffer overflows."""
    port = int(live.url.rsplit(":", 1)[1])
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    raw.setblocking(False)
    url = live.url.replace("http://", "ws://") + f"/ws/projects/{project_id}?token={pupil_token}"
    stalled = await websockets.connect(url, max_queue=1, sock=raw)
    stalled.transport.pause_reading()
    async with asyncio.timeout(WAIT):
        for n in range(2000):
            try:
                page = {"type": "chat.history", "id": str(n), "channel": "general", "limit": 100}
                await stalled.send(json.dumps(page))
            except websockets.ConnectionClosed:
                break
            await asyncio.sleep(0.005)
            if stalled.transport.is_closing():
                break
    stalled.transport.abort()


async def test_metrics_follow_sockets_commits_refusals_and_jobs(settings: Settings) -> None:
    quick = settings.model_copy(
        update={
            "ws_send_buffer_bytes": 65536,
            "docs_compact_updates": 2,
            "docs_unload_grace_seconds": 0,
            "docs_version_after_seconds": 0.2,
        }
    )
    async with serve(quick) as live:
        before = await scrape(live)
        assert value(before, "twinspace_broker_up") == 1
        room = await make_room(live.http, live.services)
        doc = await new_doc(live, room)
        teacher = await connect(live, room, "teacher")
        editor = await open_doc(live, room, "teacher")
        during = await scrape(live)
        for kind in ("hub", "yjs"):
            opened = value(during, "twinspace_sockets_open", kind=kind)
            assert opened - value(before, "twinspace_sockets_open", kind=kind) == 1

        # Group commit, both writers.
        big = secrets.token_hex(1990)
        for n in range(30):
            await teacher.ok("chat.send", channel="general", text=f"{n} {big}", key=f"k{n}")
        for letter in "abc":
            await editor.type(letter)
        await stored_text(live, room, doc["id"], "abc")
        # Edits that pause get an automatic version while the document is open.
        await until(live, lambda now: grew_from(before, now, "version"))

        # Refusals: a bad frame on the hub, a write on a read-only Yjs socket, REST without a
        # token, a hub handshake with a bad one.
        await teacher.socket.send("not json")
        await teacher.wait_for("error")
        observer = await open_doc(live, room, "observer")
        await observer.type("no")
        await observer.until(lambda: bool(observer.denials))
        assert (await live.http.get("/api/me")).status_code == 401
        refused = await HubClient.connect(live.url, room.project_id, "garbage")
        assert await refused.closed() == 4401

        # Closes: the editors leave (the document unloads and gets its version), one socket
        # overflows its send buffer.
        await editor.close()
        await observer.close()
        await teacher.close()
        await overflow_a_socket(live, room.project_id, token(room, "pupil"))

        def settled(now: Samples) -> bool:
            return (
                grew_from(before, now, "compaction")
                and grew_from(before, now, "unload")
                and (
                    value(now, "twinspace_sockets_open", kind="hub")
                    == value(before, "twinspace_sockets_open", kind="hub")
                )
            )

        after = await until(live, settled)

    def grew(name: str, by: float = 1, **labels: str) -> None:
        change = value(after, name, **labels) - value(before, name, **labels)
        assert change >= by, (name, labels, change)

    for kind in ("hub", "yjs"):
        assert value(after, "twinspace_sockets_open", kind=kind) == value(
            before, "twinspace_sockets_open", kind=kind
        )
    grew("twinspace_socket_closes_total", 2, kind="yjs", code="peer")
    grew("twinspace_socket_closes_total", kind="hub", code="peer")
    grew("twinspace_socket_closes_total", kind="hub", code="4401")
    grew("twinspace_socket_closes_total", kind="hub", code="4408")
    grew("twinspace_send_buffer_overflows_total", kind="hub")
    grew("twinspace_group_commit_batch_size_count", 1, writer="chat")
    grew("twinspace_group_commit_batch_size_sum", 30, writer="chat")
    grew("twinspace_group_commit_seconds_count", 1, writer="documents")
    grew("twinspace_group_commit_batch_size_sum", 3, writer="documents")
    grew("twinspace_refused_inputs_total", transport="hub", reason="invalid_json")
    grew("twinspace_refused_inputs_total", transport="yjs", reason="read_only")
    grew("twinspace_refused_inputs_total", transport="http", reason="unauthenticated")
    assert value(after, "twinspace_background_jobs_total", job="compaction", outcome="failed") == (
        value(before, "twinspace_background_jobs_total", job="compaction", outcome="failed")
    )
    assert value(after, "twinspace_broker_reconnects_total") == 0


async def test_an_idle_drop_is_a_close_but_not_an_overflow(settings: Settings) -> None:
    """Both close with 4408; only a full send buffer counts as an overflow."""
    quick = settings.model_copy(update={"ws_ping_seconds": 1, "ws_idle_timeout_seconds": 2})
    async with serve(quick) as live:
        before = await scrape(live)
        room = await make_room(live.http, live.services)
        silent = await HubClient.connect(
            live.url, room.project_id, token(room, "pupil"), silent=True
        )
        assert await silent.closed(timeout=WAIT) == 4408
        after = await until(
            live,
            lambda now: (
                value(now, "twinspace_socket_closes_total", kind="hub", code="4408")
                > value(before, "twinspace_socket_closes_total", kind="hub", code="4408")
            ),
        )
    assert value(after, "twinspace_send_buffer_overflows_total", kind="hub") == value(
        before, "twinspace_send_buffer_overflows_total", kind="hub"
    )


def test_the_dashboard_charts_every_family() -> None:
    dashboard = json.loads((ROOT / "deploy" / "grafana" / "twinspace-rt.json").read_text())
    queries = " ".join(
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    )
    for family in (
        "twinspace_sockets_open",
        "twinspace_socket_closes_total",
        "twinspace_send_buffer_overflows_total",
        "twinspace_group_commit_batch_size",
        "twinspace_group_commit_seconds",
        "twinspace_broker_up",
        "twinspace_broker_reconnects_total",
        "twinspace_refused_inputs_total",
        "twinspace_background_jobs_total",
    ):
        assert family in queries, family


async def test_broker_state_and_reconnects(settings: Settings) -> None:
    """A private Redis goes away and comes back: the gauge follows, the reconnect is counted."""
    redis_server = RedisServer()
    await redis_server.start()
    try:
        linked = settings.model_copy(update={"redis_url": redis_server.url})
        async with serve(linked) as live:
            up = await until(live, lambda now: value(now, "twinspace_broker_up") == 1)
            assert value(up, "twinspace_broker_reconnects_total") == 0
            await redis_server.kill()
            await until(live, lambda now: value(now, "twinspace_broker_up") == 0)
            await redis_server.start()
            back = await until(
                live, lambda now: value(now, "twinspace_broker_reconnects_total") == 1
            )
            assert value(back, "twinspace_broker_up") == 1
    finally:
        await redis_server.kill()
