"""Drafts and teachers-only pages stay hidden from those who may not see them: over REST, on
the Yjs socket and in the hub's menu pushes; editors co-edit a page's body live."""

from __future__ import annotations

import asyncio

from pycrdt import XmlElement, XmlText

from tests.chat.test_chat import connect
from tests.documents.test_documents import token
from tests.documents.test_interop import run_node, server
from tests.support.forums import Forums, stream_frames
from tests.support.live import Live
from tests.support.room import Room, make_room
from tests.support.waiting import WAIT
from tests.support.yjs_client import YjsClient


async def open_page(live: Live, room: Room, role: str, name: str) -> YjsClient:
    client = await YjsClient.connect(live.url, room.project_id, name, token(room, role))
    async with asyncio.timeout(WAIT):
        await client.synced.wait()
    return client


def paragraph(text: str) -> XmlElement:
    return XmlElement("paragraph", {}, [XmlText(text)])


async def test_a_draft_is_seen_by_its_editors_only_until_published(live: Live) -> None:
    room = await make_room(live.http, live.services)
    pages = Forums(live.http, room)
    page = await pages.ok("teacher_admin", "POST", "/pages", {"title": "Our river walk"})
    detail = await pages.ok("pupil_admin", "GET", f"/pages/{page['id']}")
    name, doc_id = detail["document"], page["document_id"]
    # Teachers and pupil administrators co-edit the draft live.
    teacher = await open_page(live, room, "teacher", name)
    pupil_admin = await open_page(live, room, "pupil_admin", name)
    await teacher.edit(lambda doc: teacher.fragment.children.append(paragraph("Day one")))
    await pupil_admin.until(lambda: "Day one" in str(pupil_admin.fragment))
    await pupil_admin.edit(lambda doc: pupil_admin.fragment.children.append(paragraph("Day two")))
    await teacher.until(lambda: "Day two" in str(teacher.fragment))
    # Pupils: not in the menu, no page, no document over REST, no socket.
    assert (await pages.ok("pupil", "GET", "/pages"))["pages"] == []
    assert (await pages.call("pupil", "GET", f"/pages/{page['id']}")).status_code == 404
    content = f"/docs/{doc_id}/content?format=text"
    assert (await pages.call("pupil", "GET", content)).status_code == 404
    refused = await YjsClient.connect(live.url, room.project_id, name, token(room, "pupil"))
    assert await refused.closed() == 4404
    # The page's document is the page's: not in the documents list, not renamed or deleted there.
    assert all(d["id"] != doc_id for d in (await pages.ok("teacher", "GET", "/docs"))["documents"])
    renamed = await pages.call("teacher_admin", "PATCH", f"/docs/{doc_id}", {"title": "Mine"})
    assert renamed.status_code == 409
    # Published: pupils read it, but only editors write (experts and pupils may not).
    await pages.ok("teacher_admin", "PATCH", f"/pages/{page['id']}", {"state": "published"})
    assert [p["title"] for p in (await pages.ok("pupil", "GET", "/pages"))["pages"]] == [
        "Our river walk"
    ]
    text = (await pages.call("pupil", "GET", content)).text
    assert "Day one" in text and "Day two" in text
    pupil = await open_page(live, room, "pupil", name)
    expert = await open_page(live, room, "expert", name)
    for reader in (pupil, expert):
        await reader.edit(lambda doc, r=reader: r.fragment.children.append(paragraph("Mine!")))
        await reader.until(lambda r=reader: len(r.denials) == 1)
    update = await live.http.post(
        f"/api/projects/{room.project_id}/docs/{doc_id}/update",
        content=b"\x00\x00",
        headers=room.headers["pupil"],
    )
    assert update.status_code == 403
    # Back to draft: the pupil's open editor is closed; the teacher's goes on.
    await pages.ok("teacher_admin", "PATCH", f"/pages/{page['id']}", {"state": "draft"})
    assert await pupil.closed() == 4404
    assert "Mine!" not in (await pages.call("teacher", "GET", content)).text
    await teacher.edit(lambda doc: teacher.fragment.children.append(paragraph("Day three")))
    await pupil_admin.until(lambda: "Day three" in str(pupil_admin.fragment))
    for client in (teacher, pupil_admin, expert):
        await client.close()


async def test_the_menu_is_pushed_live_and_resumed_per_audience(live: Live) -> None:
    room = await make_room(live.http, live.services)
    pages = Forums(live.http, room)
    watchers = {r: await connect(live, room, r) for r in ("pupil", "pupil_admin", "observer")}
    streams = {}
    for role, watcher in watchers.items():
        streams[role] = (await watcher.ok("pages.subscribe", since=None))["stream"]
    assert streams == {"pupil": "pages", "pupil_admin": "pages.d", "observer": "pages.s"}
    plan = await pages.ok("teacher_admin", "POST", "/pages", {"title": "Plan"})
    staff = await pages.ok(
        "teacher_admin", "POST", "/pages", {"title": "Staff notes", "visibility": "teachers"}
    )
    await pages.ok("teacher_admin", "PATCH", f"/pages/{plan['id']}", {"state": "published"})
    await pages.ok("teacher_admin", "PATCH", f"/pages/{staff['id']}", {"state": "published"})
    await pages.ok("teacher_admin", "PATCH", f"/pages/{plan['id']}", {"title": "The plan"})
    await pages.ok("teacher_admin", "PATCH", f"/pages/{plan['id']}", {"state": "draft"})
    expected = {
        "pupil": [
            ("pages.page.shown", ["Plan"]),
            ("pages.page.renamed", ["The plan"]),
            ("pages.page.hidden", []),
        ],
        "pupil_admin": [
            ("pages.page.added", ["Plan"]),
            ("pages.page.published", ["Plan"]),
            ("pages.page.renamed", ["The plan"]),
            ("pages.page.unpublished", ["The plan"]),
        ],
        "observer": [
            ("pages.page.shown", ["Plan"]),
            ("pages.page.shown", ["Plan", "Staff notes"]),
            ("pages.page.renamed", ["The plan", "Staff notes"]),
            ("pages.page.hidden", ["Staff notes"]),
        ],
    }
    for role, watcher in watchers.items():
        frames = await stream_frames(watcher, len(expected[role]), prefix="pages.")
        got = [(f["type"], [p["title"] for p in f["menu"]]) for f in frames]
        assert got == expected[role], role
        assert [f["seq"] for f in frames] == list(range(1, len(frames) + 1))
    # The hidden page is named by its id only.
    hidden = watchers["pupil"].of_type("pages.page.hidden")[0]
    assert hidden["page"] == {"id": plan["id"]}
    # A pupil who left after the first push replays the rest, in order, once.
    back = await connect(live, room, "pupil")
    ack = await back.ok("pages.subscribe", since=1)
    assert (ack["recovered"], ack["replayed"], ack["last_seq"]) == (True, 2, 3)
    assert [f["seq"] for f in await stream_frames(back, 2, prefix="pages.")] == [2, 3]
    for watcher in (*watchers.values(), back):
        await watcher.close()


async def test_two_stock_yjs_clients_co_edit_a_page(live: Live) -> None:
    room = await make_room(live.http, live.services)
    pages = Forums(live.http, room)
    page = await pages.ok("teacher_admin", "POST", "/pages", {"title": "Results"})
    name = (await pages.ok("teacher", "GET", f"/pages/{page['id']}"))["document"]
    result = await run_node(
        "page",
        server=server(live, room.project_id),
        doc=name,
        tokens=[token(room, "teacher"), token(room, "pupil_admin")],
        edits=10,
    )
    assert result["a"] == result["b"]
    text = (await pages.call("teacher", "GET", f"/docs/{page['document_id']}/content")).text
    assert all(f"a{i}" in text and f"b{i}" in text for i in range(10))
