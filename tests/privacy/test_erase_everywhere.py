"""Seed every table with X and Y, export X, erase X, then look everywhere for X.

The scan reads every text and JSON column of every table, every column pointing to a user, the
user ids inside stored payloads, the export files and Redis: nothing names or points to X
afterwards but the pseudonymous erasure record, and Y's rows are as they were (but for X's
name, replaced where Y mentioned it, and references to X, now to the pseudonym).
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import uuid
import zipfile
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio
from sqlalchemy import select
from sqlmodel import SQLModel

from tests.privacy.seed import X_NAME, Seed, seed, table_counts
from tests.support.live import Closed, Live, serve
from tests.support.services import require_shared_redis
from tests.support.waiting import WAIT
from twinspace_rt.privacy.context import PSEUDONYM
from twinspace_rt.privacy.custom import USER_KEYS
from twinspace_rt.privacy.tables import textual
from twinspace_rt.settings import Settings
from twinspace_rt.storage.privacy import REGISTRY, Erase
from twinspace_rt.storage.privacy_models import PrivacyJob


@pytest.fixture
async def redis_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "redis_url": await require_shared_redis(),
            "redis_prefix": f"test-{uuid.uuid4().hex[:8]}",
            # Small batches, so every step runs several.
            "privacy_batch_size": 2,
            "privacy_batch_pause_ms": 0,
        }
    )


@pytest.fixture
async def node(redis_settings: Settings) -> AsyncIterator[Live]:
    async with serve(redis_settings) as server:
        yield server


async def wait_job(live: Live, job_id: int) -> PrivacyJob:
    async with asyncio.timeout(WAIT):
        while True:
            async with live.services.db.reader() as tx:
                job = await tx.get(PrivacyJob, job_id)
            assert job is not None
            if job.state == "done":
                return job
            await asyncio.sleep(0.05)


async def rows(live: Live) -> dict[str, list[dict[str, Any]]]:
    found = {}
    async with live.services.db.reader() as tx:
        connection = await tx.connection()
        for table in SQLModel.metadata.sorted_tables:
            result = await connection.execute(select(table))
            found[table.name] = [dict(row) for row in result.mappings()]
    return found


def user_columns(table: str) -> list[str]:
    return [c for c in REGISTRY[table].users if c in SQLModel.metadata.tables[table].c]


def ids_in(value: Any, user_id: int) -> list[str]:
    """Where a stored payload names ``user_id`` as a person (not a row count or a seq)."""
    hits = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key in USER_KEYS and item == user_id:
                hits.append(key)
            elif key == "reactions" and isinstance(item, dict):
                hits += [key for ids in item.values() if user_id in ids]
            else:
                hits += ids_in(item, user_id)
    elif isinstance(value, list):
        for item in value:
            hits += ids_in(item, user_id)
    return hits


async def export_zip(live: Live, headers: dict[str, str], language: str) -> tuple[dict, bytes]:
    asked = await live.http.post(
        "/api/account/export", json={"language": language}, headers=headers
    )
    assert asked.status_code == 202, asked.text
    await wait_job(live, asked.json()["id"])
    job = (await live.http.get(f"/api/privacy/jobs/{asked.json()['id']}", headers=headers)).json()
    got = await live.http.get(job["download"], headers=headers)
    assert got.status_code == 200, got.text
    assert got.headers["content-type"] == "application/zip"
    return job, got.content


def read_zip(content: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return {
            name: archive.read(name).decode()
            if name.endswith(".html")
            else json.loads(archive.read(name))
            for name in archive.namelist()
        }


async def test_an_erased_member_is_nowhere_and_the_other_untouched(node: Live) -> None:
    world = await seed(node)
    try:
        await _check(node, world)
    finally:
        await world.close()


async def _check(live: Live, world: Seed) -> None:
    x, y = world.x, world.y
    counts = await table_counts(live)
    assert [t for t, n in counts.items() if n == 0] == ["privacy_jobs"], "seed every table"

    # Export X (in Italian) and Y: X's archive holds what X did, and nothing of Y's.
    x_job, x_zip = await export_zip(live, x.headers, "it")
    await export_zip(live, y.headers, "en")
    archive = read_zip(x_zip)
    assert "I tuoi dati in TwinSpace" in archive["index.html"]
    account = archive["account/users.json"]
    assert [(a["username"], a["display_name"]) for a in account] == [(x.username, X_NAME)]
    assert "password_hash" not in account[0]
    assert {m["project_id"] for m in archive["account/memberships.json"]} == {
        world.project_id,
        world.x_project_id,
    }
    assert [m["text"] for m in archive["chat_messages/chat_messages.json"]] == x.chat
    assert sorted(p["body"] for p in archive["forum_posts/forum_posts.json"]) == sorted(x.posts)
    assert len(archive["chat_reactions/chat_reactions.json"]) == 1
    assert len(archive["reports/reports.json"]) == 2
    assert len(archive["video_participants/video_participants.json"]) == 1
    assert archive["document_edits/doc_updates.json"], "X's edits of the shared document"
    assert archive["documents/share_of_edits.json"][0]["document_id"] == world.doc_id
    assert any(a["action"] == "privacy.export" for a in archive["audit/audit_log.json"])
    logins = archive["account/login_events.json"]
    assert sorted(e["outcome"] for e in logins) == ["failed", "ok"]
    assert {e["client"] for e in logins} == {"Firefox on Windows"}
    assert all(e["user_id"] == x.user_id and e["address"] for e in logins)
    assert y.display_name not in json.dumps(archive["chat_messages/chat_messages.json"])
    # The link opens for its requester only, and not once it is changed.
    other = await live.http.get(x_job["download"], headers=y.headers)
    assert other.status_code == 404
    forged = await live.http.get(
        x_job["download"].replace("expires=", "expires=1"), headers=x.headers
    )
    assert forged.status_code == 403 and forged.json()["error"]["code"] == "link_expired"

    before = await rows(live)
    erased = await live.http.post("/api/account/erase", headers=x.headers)
    assert erased.status_code == 202, erased.text
    again = await live.http.post("/api/account/erase", headers=x.headers)
    assert again.status_code == 401, "the erased member's tokens ended with the request"
    job = await wait_job(live, erased.json()["id"])
    assert job.subject_user_id is None
    after = await rows(live)

    names = re.compile(f"{re.escape(x.username)}|{re.escape(X_NAME)}", re.IGNORECASE)
    hits = []
    for table in SQLModel.metadata.sorted_tables:
        texts = [c.name for c in table.c if textual(c)]
        for row in after[table.name]:
            for column in texts:
                value = row[column]
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                if value is not None and names.search(text):
                    hits.append((table.name, column, text[:80]))
                if isinstance(value, str) and value.startswith("{"):
                    value = json.loads(value)
                if ids_in(value, x.user_id):
                    hits.append((table.name, column, "user id in payload"))
            for column in user_columns(table.name):
                if row[column] == x.user_id:
                    hits.append((table.name, column, "points to X"))
    assert hits == []
    assert not any(u["id"] == x.user_id for u in after["users"])
    records = [a for a in after["audit_log"] if a["action"] == "privacy.erase"]
    assert records and all(r["target_user_id"] == job.placeholder_id for r in records)
    placeholder = next(u for u in after["users"] if u["id"] == job.placeholder_id)
    assert placeholder["display_name"] == PSEUDONYM and placeholder["password_hash"] is None
    # X's exports went with their files; Y's stays (in the blob store, where any node finds it).
    store = live.services.privacy.store
    exports = await store.keys("exports/")
    assert len(exports) == 1
    kept = b"".join([chunk async for chunk in store.read(exports[0])])
    assert not re.search(re.escape(x.username), kept.decode("latin-1"))

    # Authored content reads "(removed)"; replies and threads stay.
    messages = {m["id"]: m for m in after["chat_messages"]}
    theirs = [m for m in before["chat_messages"] if m["author_id"] == x.user_id]
    assert theirs and all(messages[m["id"]]["text"] == "(removed)" for m in theirs)
    assert all(messages[m["id"]]["version"] > m["version"] for m in theirs)
    posts = {p["id"]: p for p in after["forum_posts"]}
    assert all(
        posts[p["id"]]["body"] == "(removed)"
        for p in before["forum_posts"]
        if p["author_id"] == x.user_id
    )
    assert len(after["forum_threads"]) == len(before["forum_threads"])
    # Shared documents keep their text.
    doc = await live.http.get(
        f"/api/projects/{world.project_id}/docs/{world.doc_id}/content", headers=y.headers
    )
    assert "[xenia wrote this]" in doc.text and "[yusuf wrote this]" in doc.text

    # Y: every row that was Y's is as it was, but for X's name and references to X.
    for table in SQLModel.metadata.sorted_tables:
        columns = user_columns(table.name)
        both = [c for c in (*columns, *REGISTRY[table.name].personal) if c in table.c]
        key = next(iter(table.primary_key.columns)).name
        now = {r[key]: r for r in after[table.name]}
        for row in before[table.name]:
            kept = both
            if not any(row[c] == y.user_id for c in columns):
                continue
            owner = [c for c, a in REGISTRY[table.name].users.items() if a is Erase.delete_row]
            if any(row[c] == x.user_id for c in owner):
                assert row[key] not in now, "X's own row (a mute of X by Y) goes"
                continue
            assert row[key] in now, (table.name, row)
            if any(row[c] == x.user_id for c in columns):
                # A row about both (X invited Y): Y keeps their place, X goes.
                kept = [c for c in columns if row[c] == y.user_id]
            for column in kept:
                was, is_ = row[column], now[row[key]][column]
                if was == x.user_id:
                    assert is_ in (job.placeholder_id, None)
                elif isinstance(was, str):
                    assert is_ == names.sub(PSEUDONYM, was), (table.name, column)
                elif column not in columns:
                    assert json.dumps(is_) == names.sub(PSEUDONYM, json.dumps(was))
                else:
                    assert is_ == was, (table.name, column)

    # Redis holds nothing of X: not in presence, not anywhere under this node's prefix.
    client = redis.asyncio.Redis.from_url(str(live.services.settings.redis_url))
    try:
        prefix = live.services.settings.redis_prefix
        keys = [k async for k in client.scan_iter(f"{prefix}:*")]
        assert keys, "Y's presence is there"
        found = []
        for redis_key in keys:
            kind = (await client.type(redis_key)).decode()
            values: list[bytes] = []
            if kind == "hash":
                values = [*(await client.hgetall(redis_key)).values()]
            elif kind == "zset":
                values = await client.zrange(redis_key, 0, -1)
            elif kind == "string":
                values = [await client.get(redis_key)]
            for value in values:
                text = value.decode()
                if names.search(text) or (
                    text.startswith("{") and ids_in(json.loads(text), x.user_id)
                ):
                    found.append((redis_key, text))
        assert found == []
    finally:
        await client.aclose()


async def test_the_erased_members_sockets_close(node: Live) -> None:
    world = await seed(node)
    try:
        x_hub = world.x_hub
        erased = await node.http.post("/api/account/erase", headers=world.x.headers)
        assert erased.status_code == 202
        with pytest.raises(Closed):
            await x_hub.wait_for("never")
        assert x_hub.close_code in (4401, 4403)
        await world.y_hub.ok("chat.channels")
    finally:
        await world.close()
