"""Issue 12: an update that panics Yrs, poisoned logs, and content no rendering expected.

The panicking update is real: `tests/fuzz/find_panic.py` found it by flipping three bytes of a
valid two-character insert; `get_state` decodes it and applying it raises pyo3's
`PanicException` on a replica holding the document's earlier content (`panic.json`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pycrdt import Doc, Map, Text, XmlElement, XmlFragment, XmlText, get_state
from sqlalchemy import func, select

from tests.documents.test_documents import content, new_doc, open_doc, stored_text
from tests.support.live import Live
from tests.support.room import Room, make_room
from tests.support.waiting import eventually_async
from tests.support.yjs_client import YjsClient
from tests.test_cli import cli
from twinspace_rt.documents import codec
from twinspace_rt.documents.content import Format, render
from twinspace_rt.documents.quarantine import QUARANTINE, UPDATES
from twinspace_rt.settings import Settings
from twinspace_rt.storage.engine import Database

PANIC = {
    k: bytes.fromhex(v)
    for k, v in json.loads(
        (Path(__file__).resolve().parents[1] / "fuzz" / "panic.json").read_text()
    ).items()
}
FORMATS = ("text", "markdown", "html", "json")


def test_the_fixture_still_panics_pycrdt() -> None:
    """If a pycrdt upgrade stops panicking on it, refresh it with find_panic."""
    get_state(PANIC["panics"])
    replica: Doc[Any] = Doc()
    replica.apply_update(PANIC["base"])
    with pytest.raises(BaseException) as caught:  # noqa: B017 - it is no Exception
        replica.apply_update(PANIC["panics"])
    assert type(caught.value).__name__ == "PanicException"
    assert not isinstance(caught.value, Exception)


async def bystander(live: Live) -> tuple[Room, dict[str, Any], YjsClient, YjsClient]:
    """A document in another project, with a writer and a reader."""
    other = await make_room(live.http, live.services, "b")
    doc = await new_doc(live, other, "bystander")
    writer = await open_doc(live, other, "pupil", "bystander")
    reader = await open_doc(live, other, "teacher", "bystander")
    return other, doc, writer, reader


async def still_works(
    live: Live, other: Room, doc: dict[str, Any], writer: YjsClient, reader: YjsClient, word: str
) -> None:
    await writer.type(word)
    await reader.until(lambda: word in str(reader.text))

    async def stored() -> bool:
        return word in await content(live, other, doc["id"])

    await eventually_async(stored)


async def _cli(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The command in a thread: the test's server shares this event loop and must go on
    serving (and finishing its transactions) while the command runs."""
    return await asyncio.to_thread(cli, tmp_path, url, *args)


async def log_rows(live: Live, document_id: int) -> int:
    async with live.services.db.engine.connect() as connection:
        return (
            await connection.execute(
                select(func.count()).where(UPDATES.c.document_id == document_id)
            )
        ).scalar_one()


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


async def test_the_panicking_update_is_refused_and_other_documents_go_on(
    live: Live, caplog: pytest.LogCaptureFixture
) -> None:
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    other, other_doc, writer, reader = await bystander(live)
    pupil = await open_doc(live, room, "pupil")
    watcher = await open_doc(live, room, "teacher")
    await pupil.send(codec.update_message(PANIC["base"]))
    await watcher.until(lambda: str(watcher.text) == "abc")
    await stored_text(live, room, doc["id"], "abc")
    rows = await log_rows(live, doc["id"])
    caplog.clear()

    await pupil.send(codec.update_message(PANIC["panics"]))
    assert await pupil.closed() == 4422
    assert "does not apply" in pupil.close_reason
    # Nothing of it stored or relayed; the document and every other one carry on.
    await still_works(live, other, other_doc, writer, reader, "after")
    await watcher.type("!")
    await stored_text(live, room, doc["id"], "abc!")
    assert await log_rows(live, doc["id"]) == rows + 1
    assert all(codec.decode(f).payload != PANIC["panics"] for f in watcher.frames)
    for fmt in FORMATS:
        await content(live, room, doc["id"], fmt)
    assert not tracebacks(caplog), tracebacks(caplog)
    # Over REST it is refused the same way.
    posted = await live.http.post(
        f"/api/projects/{room.project_id}/docs/{doc['id']}/update",
        content=PANIC["panics"],
        headers=room.headers["pupil"],
    )
    assert posted.status_code == 422 and posted.json()["error"]["code"] == "bad_update"
    await still_works(live, other, other_doc, writer, reader, "rest")
    assert await log_rows(live, doc["id"]) == rows + 1


async def test_a_panicking_update_from_another_node_stops_nothing(live: Live) -> None:
    """A node without the proof (an older version) could still publish one: the broker handler
    of every node guards its replica and the writer goes on."""
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    other, other_doc, writer, reader = await bystander(live)
    watcher = await open_doc(live, room, "teacher")
    await watcher.type("abc")
    await live.services.broker.publish(
        f"doc:{doc['id']}", {"kind": "update", "conn": None, "data": PANIC["base"]}
    )
    await live.services.broker.publish(
        f"doc:{doc['id']}", {"kind": "update", "conn": None, "data": PANIC["panics"]}
    )
    await still_works(live, other, other_doc, writer, reader, "unharmed")
    editor = await open_doc(live, room, "pupil")
    await editor.type("Z")
    await watcher.until(lambda: "Z" in str(watcher.text))


async def test_nested_values_too_deep_for_yrs_are_refused_not_a_crash(live: Live) -> None:
    """Yrs decodes nested values recursively: 100 000 levels killed the process (SIGSEGV)."""
    room = await make_room(live.http, live.services)
    await new_doc(live, room)
    probe: Doc[Any] = Doc(client_id=1)
    probe.get("m", type=Map)["k"] = [[None]]
    shallow = probe.get_update()
    deep = shallow.replace(bytes.fromhex("750175017e"), bytes.fromhex("7501") * 100_000 + b"\x7e")
    pupil = await open_doc(live, room, "pupil")
    await pupil.send(codec.update_message(deep))
    assert await pupil.closed() == 4422
    assert "nest deeper" in pupil.close_reason
    assert (await live.http.get("/healthz")).status_code == 200


async def test_a_poisoned_log_loads_and_the_cli_repairs_it(
    live: Live, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Rows stored before the fix: loading skips and quarantines them; `docs check` lists the
    ones nobody opened, `docs repair` moves them."""
    room = await make_room(live.http, live.services)
    opened = await new_doc(live, room, "opened")
    idle = await new_doc(live, room, "idle")
    db = live.services.db
    for doc in (opened, idle):
        async with db.engine.begin() as connection:
            for data in (PANIC["base"], PANIC["panics"], b"\x01\x02junk"):
                await connection.execute(
                    UPDATES.insert().values(document_id=doc["id"], data=data, created_at=func.now())
                )
    url = settings.effective_database_url
    checked = await _cli(tmp_path, url, "docs", "check")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert f"project {room.project_id} document {opened['id']} 'opened'" in checked.stdout
    assert f"document {idle['id']} 'idle'" in checked.stdout
    assert "4 stored part(s) of 2 document(s)" in checked.stdout

    caplog.clear()
    assert await content(live, room, opened["id"]) == "abc"  # REST reads skip, nothing moved
    editor = await open_doc(live, room, "pupil", "opened")  # loading quarantines
    assert str(editor.text) == "abc"
    await editor.type("d")
    await stored_text(live, room, opened["id"], "abcd")
    assert any("quarantined" in r.getMessage() for r in caplog.records)

    checked = await _cli(tmp_path, url, "docs", "check")
    assert checked.returncode == 1 and "'opened'" not in checked.stdout
    repaired = await _cli(tmp_path, url, "docs", "repair")
    assert repaired.returncode == 0, repaired.stderr
    assert "quarantined 2 stored part(s) of 1 document(s)" in repaired.stdout
    clean = await _cli(tmp_path, url, "docs", "check")
    assert clean.returncode == 0 and "every stored document applies" in clean.stdout
    async with db.engine.connect() as connection:
        kept = (await connection.execute(select(QUARANTINE.c.document_id, QUARANTINE.c.data))).all()
    assert sorted(k.document_id for k in kept) == sorted([opened["id"]] * 2 + [idle["id"]] * 2)
    assert {bytes(k.data) for k in kept} == {PANIC["panics"], b"\x01\x02junk"}
    assert await content(live, room, idle["id"]) == "abc"


def nested(depth: int) -> Doc[Any]:
    doc: Doc[Any] = Doc()
    element = XmlElement("blockquote")
    doc.get("content", type=XmlFragment).children.append(element)
    for level in range(depth):
        deeper = XmlElement(("bulletList", "listItem", "blockquote")[level % 3])
        element.children.append(deeper)
        element = deeper
    element.children.append(XmlText("at the bottom <b>"))
    return doc


async def test_deeply_nested_and_mixed_documents_render_everywhere(live: Live) -> None:
    room = await make_room(live.http, live.services)
    rich = await new_doc(live, room, "deep", "richtext")
    plain = await new_doc(live, room, "mixed", "text")
    base = f"/api/projects/{room.project_id}/docs"
    teacher = room.headers["teacher"]
    saved = await live.http.post(
        f"{base}/{rich['id']}/versions", json={"name": "empty"}, headers=teacher
    )
    # 3 000 nested elements, sent as one update by a member.
    posted = await live.http.post(
        f"{base}/{rich['id']}/update",
        content=nested(3000).get_update(),
        headers=room.headers["pupil"],
    )
    assert posted.status_code == 200, posted.text
    # An XML element, a map and an embed in a text document's root.
    weird: Doc[Any] = Doc()
    weird.get("content", type=XmlFragment).children.append(XmlElement("p", contents=[XmlText("x")]))
    other: Doc[Any] = Doc()
    text = other.get("content", type=Text)
    text.insert(0, "words")
    text.insert_embed(2, {"image": "https://example.org/a.png"})
    text.insert_embed(3, Map({"k": 1}))
    for update in (weird.get_update(), other.get_update()):
        posted = await live.http.post(
            f"{base}/{plain['id']}/update", content=update, headers=room.headers["pupil"]
        )
        assert posted.status_code == 200, posted.text
    for doc in (rich, plain):
        for fmt in FORMATS:
            assert (
                await live.http.get(f"{base}/{doc['id']}/content?format={fmt}", headers=teacher)
            ).status_code == 200
    assert await content(live, room, rich["id"]) == "at the bottom <b>"
    as_json = json.loads(await content(live, room, plain["id"], "json"))
    assert {"insert": {"image": "https://example.org/a.png"}} in as_json["delta"]
    assert {"insert": {"type": "XmlElement"}} in as_json["delta"]
    assert "".join(d["insert"] for d in as_json["delta"] if isinstance(d["insert"], str)) == "words"
    deep_json = json.loads(await content(live, room, rich["id"], "json"))  # Python can parse it
    assert deep_json["kind"] == "richtext"
    version = await live.http.post(
        f"{base}/{rich['id']}/versions", json={"name": "deep"}, headers=teacher
    )
    for fmt in FORMATS:
        read = await live.http.get(
            f"{base}/{rich['id']}/versions/{version.json()['id']}/content?format={fmt}",
            headers=teacher,
        )
        assert read.status_code == 200
    diff = await live.http.get(
        f"{base}/{rich['id']}/versions/diff?from={saved.json()['id']}", headers=teacher
    )
    assert diff.status_code == 200 and "+at the bottom <b>" in diff.json()["diff"]
    restored = await live.http.post(
        f"{base}/{rich['id']}/versions/{saved.json()['id']}/restore", headers=teacher
    )
    assert restored.status_code == 200
    assert await content(live, room, rich["id"]) == ""


def test_markdown_keeps_raw_html_as_text() -> None:
    doc: Doc[Any] = Doc()
    fragment = doc.get("content", type=XmlFragment)
    paragraph = XmlText("<img src=x onerror=alert(1)> & [click](javascript:alert(1)) ")
    fragment.children.append(XmlElement("paragraph", contents=[paragraph]))
    code = XmlText("a`<script>`b")
    fragment.children.append(XmlElement("paragraph", contents=[code]))
    code.format(0, len("a`<script>`b"), {"code": True})
    fragment.children.append(XmlElement("codeBlock", contents=[XmlText("```\n<script>")]))
    markdown = render(doc, "richtext", Format.markdown)
    assert markdown == (
        "\\<img src=x onerror=alert(1)\\> \\& \\[click\\](javascript:alert(1)) \n\n"
        "``a`<script>`b``\n\n"
        "````\n```\n<script>\n````\n"
    )
    text: Doc[Any] = Doc()
    text.get("content", type=Text).insert(0, "<b>bold?</b>\n# not a heading")
    assert render(text, "text", Format.markdown) == "\\<b\\>bold?\\</b\\>\n\\# not a heading"


async def test_one_document_s_failing_relay_does_not_hold_another_s_batch(
    settings: Settings,
) -> None:
    """Two documents' updates in one batch: relaying the first one panics (a real Yrs panic in
    a handler of its topic), the second is relayed in that same batch, and the writer takes the
    next batch."""
    from twinspace_rt.broker.memory import MemoryBroker
    from twinspace_rt.documents.document import DocRef, topic
    from twinspace_rt.documents.registry import DocumentRegistry
    from twinspace_rt.storage.migrate import upgrade

    db = Database(settings.effective_database_url)
    await upgrade(db)
    broker = MemoryBroker()
    await broker.start()
    registry = DocumentRegistry(settings, db, broker)

    async def panics(event: dict[str, Any]) -> None:
        replica: Doc[Any] = Doc()
        replica.apply_update(PANIC["base"])
        replica.apply_update(PANIC["panics"])

    try:
        ids = await _two_documents(db)
        first, second = [await registry.open(DocRef(i, 1, "text")) for i in ids]
        broker.subscribe(topic(ids[0]), panics)
        queued = [registry.queue(room, PANIC["base"], None, None) for room in (first, second)]
        await asyncio.wait_for(asyncio.gather(*queued), 10)
        assert second.doc.get_update() != Doc().get_update(), "the second was relayed"
        assert registry._log.batches == 1, "both went in one batch"
        text = second.doc.get("content", type=Text)
        third = registry.queue(second, _append_to(second.doc, text), None, None)
        assert third is not None
        await asyncio.wait_for(third, 10)
        assert registry._log.batches == 2
    finally:
        await registry.stop()
        await broker.close()
        await db.close()


def _append_to(doc: Doc[Any], text: Text) -> bytes:
    """An update that appends to ``doc``'s text, made on a copy so ``doc`` only gets it relayed."""
    copy: Doc[Any] = Doc()
    copy.apply_update(doc.get_update())
    before = copy.get_state()
    copy.get("content", type=Text).insert(len(text), "!")
    return copy.get_update(before)


async def _two_documents(db: Database) -> list[int]:
    from twinspace_rt.projects import accounts, membership
    from twinspace_rt.storage.document_models import Document

    async with db.transaction() as tx:
        owner = await accounts.create_teacher(tx, "owner", "a long password 1", "O", "PT")
        project, _ = await membership.create_project(tx, owner, "p", "")
        documents = [
            Document(
                project_id=project.id, name=f"d{i}", title="D", kind="text", created_by=owner.id
            )
            for i in range(2)
        ]
        tx.add_all(documents)
        await tx.flush()
        return [d.id for d in documents if d.id is not None]


async def test_a_snapshot_that_does_not_apply_is_kept_aside_and_the_log_still_loads(
    live: Live,
) -> None:
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    from twinspace_rt.documents.store import DOCUMENTS

    async with live.services.db.engine.begin() as connection:
        await connection.execute(
            DOCUMENTS.update().where(DOCUMENTS.c.id == doc["id"]).values(snapshot=b"\x05junk")
        )
        await connection.execute(
            UPDATES.insert().values(
                document_id=doc["id"], data=PANIC["base"], created_at=func.now()
            )
        )
    editor = await open_doc(live, room, "pupil")
    assert str(editor.text) == "abc"
    async with live.services.db.engine.connect() as connection:
        kept = (await connection.execute(select(QUARANTINE))).one()
        head = (
            await connection.execute(
                select(DOCUMENTS.c.snapshot).where(DOCUMENTS.c.id == doc["id"])
            )
        ).scalar_one()
    assert kept.update_id is None and bytes(kept.data) == b"\x05junk"
    assert bytes(head) == b""
