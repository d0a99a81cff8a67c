"""Shared documents in storage: compaction, versions, restore, unloading, token expiry."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from tests.documents.test_documents import content, new_doc, open_doc, stored_text
from tests.support.live import serve
from tests.support.room import make_room
from tests.support.waiting import WAIT
from twinspace_rt.settings import Settings
from twinspace_rt.storage.document_models import Document, DocUpdate


async def log_rows(settings_db: object, doc_id: int) -> tuple[int, int]:
    from twinspace_rt.storage.engine import Database

    assert isinstance(settings_db, Database)
    async with settings_db.engine.connect() as connection:
        rows = await connection.scalar(
            select(func.count()).where(DocUpdate.document_id == doc_id)  # type: ignore[arg-type]
        )
        version = await connection.scalar(
            select(Document.snapshot_version).where(Document.id == doc_id)  # type: ignore[arg-type]
        )
    return int(rows or 0), int(version or 0)


async def test_compaction_folds_the_log_into_the_snapshot(settings: Settings) -> None:
    small = settings.model_copy(update={"docs_compact_updates": 10})
    async with serve(small) as live:
        room = await make_room(live.http, live.services)
        doc = await new_doc(live, room)
        editor = await open_doc(live, room, "pupil")
        words = [f"w{i} " for i in range(35)]
        # In bursts of 10 (the threshold), each stored, and folded when it reaches 10 rows,
        # before the next: a compaction running when the next threshold is reached would fold
        # both at once (a busy machine made that happen), which this test is not about.
        for burst, start in enumerate(range(0, len(words), 10), start=1):
            for word in words[start : start + 10]:
                await editor.type(word)
            await stored_text(live, room, doc["id"], "".join(words[: start + 10]))
            async with asyncio.timeout(WAIT):
                while (state := await log_rows(live.services.db, doc["id"]))[1] < min(burst, 3):
                    await asyncio.sleep(0.02)
        rows, version = state
        assert rows == 5 and version == 3
        latecomer = await open_doc(live, room, "teacher")
        assert str(latecomer.text) == "".join(words)
    # A fresh node loads snapshot + tail.
    async with serve(small) as again:
        assert await content(again, room, doc["id"]) == "".join(words)


async def test_versions_save_list_read_diff_and_restore_forward(settings: Settings) -> None:
    async with serve(settings) as live:
        room = await make_room(live.http, live.services)
        doc = await new_doc(live, room)
        base = f"/api/projects/{room.project_id}/docs/{doc['id']}"
        pupil = await open_doc(live, room, "pupil")
        teacher = await open_doc(live, room, "teacher")
        await pupil.type("Once upon a time\n")
        await stored_text(live, room, doc["id"], "Once upon a time\n")
        saved = await live.http.post(
            base + "/versions", json={"name": "first draft"}, headers=room.headers["teacher"]
        )
        assert saved.status_code == 201, saved.text
        refused = await live.http.post(
            base + "/versions", json={"name": "mine"}, headers=room.headers["pupil"]
        )
        assert refused.status_code == 403
        await pupil.edit(lambda _: pupil.text.__delitem__(slice(0, 5)))
        await pupil.type("an accident")
        await teacher.until(lambda: str(teacher.text) == "upon a time\nan accident")
        version_id = saved.json()["id"]
        listed = await live.http.get(base + "/versions", headers=room.headers["pupil"])
        assert [v["name"] for v in listed.json()["versions"]] == ["first draft"]
        old = await live.http.get(
            base + f"/versions/{version_id}/content?format=text", headers=room.headers["pupil"]
        )
        assert old.text == "Once upon a time\n"
        diff = await live.http.get(
            base + f"/versions/diff?from={version_id}", headers=room.headers["pupil"]
        )
        assert "-Once upon a time" in diff.json()["diff"]
        assert "+an accident" in diff.json()["diff"]
        restored = await live.http.post(
            base + f"/versions/{version_id}/restore", headers=room.headers["teacher"]
        )
        assert restored.status_code == 200, restored.text
        # Live clients converge on the version by merging a forward update: nothing duplicated.
        for client in (pupil, teacher):
            await client.until(lambda c=client: str(c.text) == "Once upon a time\n")
        await stored_text(live, room, doc["id"], "Once upon a time\n")
        await pupil.type("The end.")
        await teacher.until(lambda: str(teacher.text) == "Once upon a time\nThe end.")


async def test_an_automatic_version_follows_a_spell_of_activity(settings: Settings) -> None:
    quick = settings.model_copy(update={"docs_version_after_seconds": 0.5})
    async with serve(quick) as live:
        room = await make_room(live.http, live.services)
        doc = await new_doc(live, room)
        editor = await open_doc(live, room, "pupil")
        await editor.type("draft")
        url = f"/api/projects/{room.project_id}/docs/{doc['id']}/versions"
        async with asyncio.timeout(WAIT):
            while not (await live.http.get(url, headers=room.headers["pupil"])).json()["versions"]:
                await asyncio.sleep(0.1)
        [auto] = (await live.http.get(url, headers=room.headers["pupil"])).json()["versions"]
        assert auto["auto"] is True
        read = await live.http.get(f"{url}/{auto['id']}/content", headers=room.headers["pupil"])
        assert read.text == "draft"


async def test_documents_nobody_uses_are_unloaded(settings: Settings) -> None:
    quick = settings.model_copy(update={"docs_unload_grace_seconds": 0.1})
    async with serve(quick) as live:
        room = await make_room(live.http, live.services)
        for i in range(20):
            await new_doc(live, room, f"doc-{i}")
            client = await open_doc(live, room, "pupil", f"doc-{i}")
            await client.type("x")
            await client.close()
        rooms = live.services.documents.by_id
        async with asyncio.timeout(WAIT):
            while rooms:
                await asyncio.sleep(0.05)
        # Their broker topics went with them; the node's own (a project's, video's) stay.
        topics = live.services.broker._handlers.topics()  # type: ignore[attr-defined]
        assert [topic for topic in topics if topic.startswith("doc:")] == []
