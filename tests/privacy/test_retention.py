"""Retention with time moved forward (an injected clock; nothing sleeps), run by two nodes at
once on the same database: each row goes once, exactly what the settings say goes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlmodel import SQLModel

from tests.materials.support import gps_photo, make_collection, processed, upload
from tests.privacy.test_requests import token
from tests.support.live import HubClient, Live, serve
from tests.support.room import Room, make_room
from twinspace_rt.materials.blobs import create_store, project_prefix
from twinspace_rt.privacy import retention
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.privacy import REGISTRY

START = datetime.now(UTC)


async def nothing() -> None:
    return None


@pytest.fixture
async def quiet(settings: Settings) -> AsyncIterator[Live]:
    """A node whose own retention loop stays out of the way (it runs once, at start)."""
    async with serve(settings.model_copy(update={"privacy_poll_seconds": 600})) as live:
        yield live


async def chat_in(live: Live, room: Room, count: int) -> None:
    hub = await HubClient.connect(live.url, room.project_id, token(room, "pupil"))
    teacher = await HubClient.connect(live.url, room.project_id, token(room, "teacher"))
    try:
        for i in range(count):
            ack = await hub.ok("chat.send", channel="general", text=f"line {i}", key=f"k{i}")
            await teacher.ok("chat.react", channel="general", seq=ack["seq"], emoji="👍")
    finally:
        await hub.close()
        await teacher.close()


async def count(live: Live, name: str, **where: int) -> int:
    table = SQLModel.metadata.tables[name]
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    async with live.services.db.reader() as tx:
        return (await (await tx.connection()).execute(query)).scalar_one()


async def two_nodes(settings: Settings, now: datetime) -> list[retention.Report]:
    """Two nodes' runs at once, each with its own database pool and blob store client."""
    nodes = [Database(settings.effective_database_url) for _ in range(2)]
    store = create_store(settings)
    try:
        return list(
            await asyncio.gather(
                *(
                    retention.run(db, settings, store, f"node-{i}", now, nothing)
                    for i, db in enumerate(nodes)
                )
            )
        )
    finally:
        for db in nodes:
            await db.close()
        await store.close()


async def test_chat_older_than_the_project_setting_goes_once(quiet: Live) -> None:
    settings = quiet.services.settings
    room = await make_room(quiet.http, quiet.services)
    other = await make_room(quiet.http, quiet.services, "o")
    admin = room.headers["teacher_admin"]
    chosen = await quiet.http.put(
        f"/api/projects/{room.project_id}/privacy", json={"chat_days": 30}, headers=admin
    )
    assert chosen.status_code == 200 and chosen.json()["chat_days"] == 30
    await chat_in(quiet, room, 5)
    await chat_in(quiet, other, 2)
    audit_before = await count(quiet, "audit_log")

    # The dry run a month on, with the node's clock moved: what would go, nothing gone.
    quiet.services.privacy.clock = lambda: START + timedelta(days=31)
    preview = await quiet.http.get(
        f"/api/projects/{room.project_id}/privacy/retention", headers=admin
    )
    assert preview.status_code == 200
    assert preview.json() == {
        "removed": {"chat_messages": 5, "materials": 0, "journal_posts": 0, "audit_log": 0},
        "project_deleted": False,
        "listed": {"materials": [], "journal_posts": []},
    }
    assert await count(quiet, "chat_messages") == 7

    # Both nodes run at once, a month on: one runs, and removes this room's 5 messages (and
    # the reactions on them); the other room keeps the default year.
    reports = await two_nodes(settings, START + timedelta(days=31))
    assert sorted(r.ran for r in reports) == [False, True]
    ran = next(r for r in reports if r.ran)
    assert ran.removed == {
        "chat_messages": 5,
        "materials": 0,
        "journal_posts": 0,
        "audit_log": 0,
        "login_events": 0,
        "exports": 0,
    }
    assert await count(quiet, "chat_messages") == 2
    assert await count(quiet, "chat_reactions") == 2
    # The same interval again: nobody runs.
    again = await two_nodes(settings, START + timedelta(days=31, minutes=5))
    assert [r.ran for r in again] == [False, False]
    # Four years on: the default year takes the other room's chat, three years the audit.
    later = await two_nodes(settings, START + timedelta(days=4 * 365))
    ran = next(r for r in later if r.ran)
    assert ran.removed["chat_messages"] == 2 and ran.removed["audit_log"] == audit_before
    assert await count(quiet, "chat_messages") == 0
    assert await count(quiet, "audit_log") == 0


async def test_a_closed_project_goes_whole_after_its_months(quiet: Live) -> None:
    settings = quiet.services.settings
    room = await make_room(quiet.http, quiet.services)
    kept = await make_room(quiet.http, quiet.services, "k")
    await chat_in(quiet, room, 2)
    admin = room.headers["teacher_admin"]
    album = await make_collection(quiet.http, admin, room.project_id, "album")
    sent = await upload(quiet.http, admin, room.project_id, album, gps_photo())
    assert (await processed(quiet.http, admin, sent))["status"] == "done"
    store = quiet.services.privacy.store
    assert await store.keys(project_prefix(room.project_id))
    closed = await quiet.http.patch(
        f"/api/projects/{room.project_id}", json={"status": "closed"}, headers=admin
    )
    assert closed.status_code == 200
    months = await quiet.http.put(
        f"/api/projects/{room.project_id}/privacy", json={"closed_months": 2}, headers=admin
    )
    assert months.status_code == 200
    # The first run after the closing notes it; nothing goes yet.
    first = await two_nodes(settings, START + timedelta(hours=2))
    assert next(r for r in first if r.ran).projects_deleted == []
    noted = await quiet.http.get(f"/api/projects/{room.project_id}/privacy", headers=admin)
    assert noted.json()["closed_since"] is not None
    quiet.services.privacy.clock = lambda: START + timedelta(days=70)
    preview = await quiet.http.get(
        f"/api/projects/{room.project_id}/privacy/retention", headers=admin
    )
    assert preview.json()["project_deleted"] is True

    reports = await two_nodes(settings, START + timedelta(days=70))
    assert next(r for r in reports if r.ran).projects_deleted == [room.project_id]
    # Nothing of the project is left in any table; its pupils' accounts went with it.
    for name, declaration in REGISTRY.items():
        if declaration.scope == "project_id":
            assert await count(quiet, name, project_id=room.project_id) == 0, name
    assert await count(quiet, "projects", id=room.project_id) == 0
    assert await store.keys(project_prefix(room.project_id)) == [], "and its files"
    for role in ("pupil", "pupil_admin"):
        assert await count(quiet, "users", id=room.user_ids[role]) == 0
    assert await count(quiet, "users", id=room.user_ids["teacher_admin"]) == 1
    # The other project is whole.
    still = await quiet.http.get(f"/api/projects/{kept.project_id}", headers=kept.headers["pupil"])
    assert still.status_code == 200
    assert await count(quiet, "chat_channels", project_id=kept.project_id) > 0
