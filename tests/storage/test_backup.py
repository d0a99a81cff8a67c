"""`twinspace-rt backup` and `restore` for real: a backup taken from a live server under chat
and Yjs load restores to a server that serves the same rooms, messages, text and materials.

The feature is the embedded setup's, so these tests choose SQLite themselves, whatever
``TWINSPACE_TEST_DATABASE`` selects (PostgreSQL is refused by the command; tested below).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.chat.test_chat import connect, token
from tests.documents.test_documents import content, new_doc
from tests.materials.support import make_collection, processed, upload
from tests.support.live import CLI, Closed, HubClient, Live, serve
from tests.support.room import Room, make_room
from tests.support.waiting import WAIT
from tests.support.yjs_client import YjsClient
from twinspace_rt.settings import Settings

SENDERS = ("pupil", "pupil_admin", "teacher")
ACKED_BEFORE_BACKUP = 60  # acknowledged messages before the backup starts
WORDS_BEFORE_BACKUP = 20  # words the reader has received before it starts
MOST = 3000  # each load stream's bound; the test stops them long before
GONE = (Closed, websockets.ConnectionClosed, ConnectionError)


def embedded(data_dir: Path) -> Settings:
    """A node on the embedded SQLite in ``data_dir`` (no database URL: the default path)."""
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        chat_rate_per_second=1000,
        chat_rate_burst=1000,
        rest_write_rate_per_second=1000,
        rest_write_burst=1000,
    )


async def cli(data_dir: Path, *args: str, **extra_env: str) -> tuple[int, str]:
    """Runs the command without blocking the loop the live server runs in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TWINSPACE_")}
    env.update(TWINSPACE_DATA_DIR=str(data_dir), **extra_env)
    process = await asyncio.create_subprocess_exec(
        CLI,
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(WAIT):
        out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


@dataclass
class Load:
    acked: dict[str, int] = field(default_factory=dict)  # key -> acknowledged seq
    stop: asyncio.Event = field(default_factory=asyncio.Event)


async def chat_load(client: HubClient, sender: str, load: Load) -> None:
    for i in range(MOST):
        if load.stop.is_set():
            return
        key = f"{sender}-{i}"
        try:
            ack = await client.ok("chat.send", channel="general", text=f"text of {key}", key=key)
        except GONE:
            return
        load.acked[key] = ack["seq"]


async def yjs_load(writer: YjsClient, load: Load) -> None:
    for i in range(MOST):
        if load.stop.is_set():
            return
        await writer.type(f"w{i};")
        await asyncio.sleep(0.002)


def words(text: str) -> list[str]:
    return [w for w in text.split(";") if w]


async def history(client: HubClient) -> list[tuple[int, str]]:
    """Every message of the general channel, oldest first, paged backwards."""
    found: list[tuple[int, str]] = []
    before: int | None = None
    while True:
        fields: dict[str, Any] = {"channel": "general", "limit": 100}
        if before is not None:
            fields["before"] = before
        page = (await client.ok("chat.history", **fields))["messages"]
        found[:0] = [(m["seq"], m["text"]) for m in page]
        if len(page) < 100:
            return found
        before = page[0]["seq"]


@dataclass
class Served:
    projects: list[dict[str, Any]]
    messages: list[tuple[int, str]]
    text: str
    materials: list[dict[str, Any]]
    files: dict[int, bytes]


async def what_is_served(live: Live, room: Room, doc_id: int) -> Served:
    admin = room.headers["teacher_admin"]
    projects = (await live.http.get("/api/projects", headers=admin)).json()
    client = await connect(live, room, "teacher")
    messages = await history(client)
    await client.close()
    listed = await live.http.get(
        f"/api/projects/{room.project_id}/materials", headers=room.headers["pupil"]
    )
    assert listed.status_code == 200, listed.text
    materials = [m for c in listed.json()["collections"] for m in c["materials"]]
    files: dict[int, bytes] = {}
    for material in materials:
        got = await live.http.get(
            f"/api/projects/{room.project_id}/materials/{material['id']}/file",
            headers=room.headers["pupil"],
        )
        assert got.status_code == 200, got.text
        files[material["id"]] = got.content
    return Served(projects, messages, await content(live, room, doc_id), materials, files)


async def test_a_backup_under_load_restores_to_a_server_serving_the_same_room(
    tmp_path: Path,
) -> None:
    live_dir, backup_dir, restored_dir = tmp_path / "live", tmp_path / "backup", tmp_path / "new"
    load = Load()
    report = b"%PDF-1.7\n" + os.urandom(300_000)
    async with serve(embedded(live_dir)) as live:
        room = await make_room(live.http, live.services)
        doc = await new_doc(live, room)
        teacher = room.headers["teacher"]
        folder = await make_collection(live.http, teacher, room.project_id, "folder")
        location = await upload(live.http, teacher, room.project_id, folder, report, "report.pdf")
        assert (await processed(live.http, teacher, location))["status"] == "done"

        senders = [await connect(live, room, role) for role in SENDERS]
        writer = await YjsClient.connect(live.url, room.project_id, "story", token(room, "pupil"))
        reader = await YjsClient.connect(live.url, room.project_id, "story", token(room, "teacher"))
        for yjs in (writer, reader):
            async with asyncio.timeout(WAIT):
                await yjs.synced.wait()
        tasks = [
            asyncio.create_task(chat_load(c, r, load))
            for c, r in zip(senders, SENDERS, strict=True)
        ]
        tasks.append(asyncio.create_task(yjs_load(writer, load)))
        await reader.until(lambda: len(words(str(reader.text))) >= WORDS_BEFORE_BACKUP)
        async with asyncio.timeout(WAIT):
            while len(load.acked) < ACKED_BEFORE_BACKUP:
                await asyncio.sleep(0.01)

        # What was acknowledged, and relayed (so stored), before the command starts.
        acked_before = dict(load.acked)
        relayed_before = set(words(str(reader.text)))
        code, out = await cli(live_dir, "backup", str(backup_dir))
        assert code == 0, out
        acked_during = len(load.acked) - len(acked_before)

        load.stop.set()
        async with asyncio.timeout(WAIT):
            await asyncio.gather(*tasks)
        for client in senders:
            await client.close()
        for yjs in (writer, reader):
            await yjs.close()
        original = await what_is_served(live, room, doc["id"])

    manifest = json.loads((backup_dir / "manifest.json").read_text())
    assert manifest["rows"]["projects"] == 1 and manifest["blob_count"] >= 1
    assert not (tmp_path / "backup.partial").exists()

    code, out = await cli(restored_dir, "restore", str(backup_dir))
    assert code == 0, out
    async with serve(embedded(restored_dir)) as restored:
        back = await what_is_served(restored, room, doc["id"])

    print(
        f"\nbackup under load: acknowledged before={len(acked_before)} during={acked_during}"
        f" in backup={len(back.messages)} of {len(original.messages)};"
        f" words relayed before={len(relayed_before)} in backup={len(words(back.text))}"
        f" of {len(words(original.text))}"
    )
    restored_seqs = {seq for seq, _ in back.messages}
    lost = [k for k, seq in acked_before.items() if seq not in restored_seqs]
    assert lost == [], "messages acknowledged before the backup began are not in it"
    # A snapshot: the restored history is exactly the original's first messages.
    assert back.messages == original.messages[: len(back.messages)]
    assert relayed_before <= set(words(back.text)), "relayed updates missing from the backup"
    assert original.text.startswith(back.text), "the restored document is not a snapshot"
    assert back.projects == original.projects
    assert back.materials == original.materials
    assert back.files == original.files and report in back.files.values()


async def test_restore_refuses_a_full_folder_and_a_damaged_backup(tmp_path: Path) -> None:
    live_dir, backup_dir = tmp_path / "live", tmp_path / "backup"
    async with serve(embedded(live_dir)) as live:
        await make_room(live.http, live.services)
    assert (await cli(live_dir, "backup", str(backup_dir)))[0] == 0
    code, out = await cli(live_dir, "backup", str(backup_dir))
    assert code != 0 and "already exists" in out and "Traceback" not in out

    code, out = await cli(live_dir, "restore", str(backup_dir))
    assert code != 0 and "is not empty" in out and "--force" in out, out
    assert "Traceback" not in out

    code, out = await cli(tmp_path / "new", "restore", str(tmp_path / "nothing"))
    assert code != 0 and "no manifest.json" in out, out

    # A backup from a newer version, whose schema this one cannot migrate from.
    newer = tmp_path / "newer"
    shutil.copytree(backup_dir, newer)
    manifest = json.loads((newer / "manifest.json").read_text())
    manifest["schema_revision"] = "9999_from_the_future"
    (newer / "manifest.json").write_text(json.dumps(manifest))
    code, out = await cli(tmp_path / "new", "restore", str(newer))
    assert code != 0 and "unknown to this version" in out and "Traceback" not in out, out

    # Bytes changed after the backup was written: its digest no longer matches.
    flipped = tmp_path / "flipped"
    shutil.copytree(backup_dir, flipped)
    database = flipped / "twinspace.db"
    raw = bytearray(database.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    database.write_bytes(bytes(raw))
    code, out = await cli(tmp_path / "new", "restore", str(flipped))
    assert code != 0 and "digest differs" in out and "Traceback" not in out, out

    # A database damaged before its digest was taken: the integrity check finds it.
    damaged = tmp_path / "damaged"
    shutil.copytree(backup_dir, damaged)
    database = damaged / "twinspace.db"
    page = sqlite3.connect(database).execute("PRAGMA page_size").fetchone()[0]
    raw = bytearray(database.read_bytes())
    raw[page : 3 * page] = b"\xa5" * (2 * page)  # pages 2 and 3: b-tree pages, now garbage
    database.write_bytes(bytes(raw))
    manifest = json.loads((damaged / "manifest.json").read_text())
    manifest["database_sha256"] = hashlib.sha256(bytes(raw)).hexdigest()
    (damaged / "manifest.json").write_text(json.dumps(manifest))
    code, out = await cli(tmp_path / "new", "restore", str(damaged))
    assert code != 0 and "is damaged" in out and "Traceback" not in out, out
    assert not (tmp_path / "new" / "twinspace.db").exists(), "a refused restore wrote a database"

    # --force replaces what is there.
    code, out = await cli(live_dir, "restore", "--force", str(backup_dir))
    assert code == 0, out


@pytest.mark.parametrize(
    ("env", "pointer"),
    [
        ({"TWINSPACE_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/x"}, "pg_dump"),
        ({"TWINSPACE_S3_ENDPOINT_URL": "http://127.0.0.1:1"}, "S3 versioning"),
    ],
)
async def test_backup_refuses_postgres_and_s3_and_points_to_the_docs(
    tmp_path: Path, env: dict[str, str], pointer: str
) -> None:
    for args in (("backup", str(tmp_path / "b")), ("restore", str(tmp_path / "b"))):
        code, out = await cli(tmp_path / "data", *args, **env)
        assert code != 0 and pointer in out and "docs/DEPLOY.md" in out, out
        assert "Traceback" not in out
    assert not (tmp_path / "b").exists()
