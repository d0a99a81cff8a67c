"""Embeds in a page: resolved only inside the page's project and only for what the reader may
see; rendered as an escaped placeholder in HTML exports; in the public showcase, only the
processed images a teacher administrator published with the page."""

from __future__ import annotations

import asyncio
import io

from PIL import Image
from pycrdt import XmlElement, XmlText

from tests.chat.test_chat import connect
from tests.documents.test_documents import token
from tests.materials.support import image, images_here_and_elsewhere
from tests.support.forums import Forums
from tests.support.live import Live
from tests.support.room import Room, make_room
from tests.support.waiting import WAIT
from tests.support.yjs_client import YjsClient


async def write_embeds(live: Live, room: Room, name: str, *embeds: dict[str, str]) -> None:
    """Appends a paragraph and the embeds to a page's body, as the editor would."""
    editor = await YjsClient.connect(live.url, room.project_id, name, token(room, "teacher"))
    async with asyncio.timeout(WAIT):
        await editor.synced.wait()

    def change(doc: object) -> None:
        editor.fragment.children.append(XmlElement("paragraph", {}, [XmlText("Our photos")]))
        for attrs in embeds:
            editor.fragment.children.append(XmlElement("embed", attrs))

    await editor.edit(change)
    await editor.close()


async def test_an_embed_resolves_only_in_its_project_for_who_may_see_it(live: Live) -> None:
    room = await make_room(live.http, live.services)
    other = await make_room(live.http, live.services, "o")
    f = Forums(live.http, room)
    mine, theirs = await image(live, room), await image(live, other)
    pending = await image(live, room, "pupil")  # a pupil's upload waits for review
    thread = (await f.thread(await f.forum(), title="Rivers"))["thread"]["id"]
    doc = await f.ok("teacher", "POST", "/docs", {"name": "plan", "title": "Plan"})
    teacher = await connect(live, room, "teacher")
    await teacher.ok("chat.send", channel="general", text="Meet at the river", key="g")
    await teacher.ok("chat.send", channel="teachers", text="Staff only", key="t")
    page = await f.ok("teacher_admin", "POST", "/pages", {"title": "Gallery"})

    async def check(role: str, kind: str, ref: object) -> dict:
        answer = await f.call(role, "GET", f"/pages/embeds/{kind}/{ref}")
        if answer.status_code == 200:
            return answer.json()  # type: ignore[no-any-return]
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == "embed_unavailable"
        return {}

    found = await check("pupil", "material", mine)
    assert found == {
        "kind": "material",
        "ref": str(mine),
        "title": "home.jpg",
        "media": "image",
        "target": None,
    }
    assert (await check("pupil", "document", doc["id"]))["target"] == doc["name"]
    assert (await check("pupil", "thread", thread))["title"] == "Rivers"
    assert (await check("pupil", "message", "general:1"))["title"] == "Meet at the river"
    assert (await check("teacher", "message", "teachers:1"))["title"] == "Staff only"
    for role, kind, ref in (
        ("pupil", "material", theirs),  # another project's object
        ("teacher", "material", theirs),
        ("pupil", "material", pending),  # not approved: not for a page
        ("pupil", "material", 999999),
        ("pupil", "message", "teachers:1"),  # a channel the pupil may not read
        ("pupil", "message", "general:99"),
        ("pupil", "document", page["document_id"]),  # a page's own body is not a document
        ("pupil", "video", 1),
        ("pupil", "material", "0"),
        ("pupil", "material", "1e3"),
        ("pupil", "material", "99999999999999999999999"),
        ("pupil", "message", "general:x"),
        ("pupil", "message", "GENERAL:1"),
    ):
        assert await check(role, kind, ref) == {}, (role, kind, ref)
    outsider = await live.http.get(
        f"{f.base}/pages/embeds/material/{mine}", headers=other.headers["pupil"]
    )
    assert outsider.status_code == 403  # not a member: refused before any lookup
    await teacher.close()


async def test_exports_escape_embeds_and_the_showcase_serves_only_published_images(
    live: Live,
) -> None:
    room = await make_room(live.http, live.services)
    f = Forums(live.http, room)
    first, later, theirs, other = await images_here_and_elsewhere(live, room)
    thread = (await f.thread(await f.forum(), title="Our secret thread"))["thread"]["id"]
    page = await f.ok("teacher_admin", "POST", "/pages", {"title": "Gallery"})
    name = (await f.ok("teacher", "GET", f"/pages/{page['id']}"))["document"]
    await write_embeds(
        live,
        room,
        name,
        {"kind": "material", "ref": str(first)},
        {"kind": "material", "ref": str(theirs)},
        {"kind": "thread", "ref": str(thread)},
        {"kind": '"><script>alert(1)</script>', "ref": "1"},
    )
    # The documents' HTML rendering: neutral, escaped placeholders, never a script.
    export = f"/docs/{page['document_id']}/content?format=html"
    async with asyncio.timeout(WAIT):
        while "Our photos" not in (rendered := (await f.call("teacher", "GET", export)).text):
            await asyncio.sleep(0.02)
    assert rendered.count('class="embed-unavailable"') == 4
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered

    await f.ok("teacher_admin", "PATCH", f"/pages/{page['id']}", {"state": "published"})
    await f.ok(
        "teacher_admin", "PATCH", "/publishing", {"slug": "gallery-2027", "pages": [page["id"]]}
    )
    await f.ok("teacher_admin", "PATCH", "/publishing", {"showcase_on": True})
    html = (await live.http.get("/p/gallery-2027")).text
    assert f'<img src="/p/gallery-2027/m/{first}" alt=""' in html
    for absent in (f"/m/{theirs}", "secret thread", "<script", "embed-unavailable"):
        assert absent not in html, absent
    served = await live.http.get(f"/p/gallery-2027/m/{first}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.headers["cache-control"].startswith("public")
    shown = Image.open(io.BytesIO(served.content))
    # Processed: turned upright by its EXIF orientation, then every metadata block dropped.
    assert shown.size == (200, 300) and not shown.getexif() and "comment" not in shown.info
    for refused in (theirs, 999999):
        assert (await live.http.get(f"/p/gallery-2027/m/{refused}")).status_code == 404
    # Added to the page afterwards: not public until a teacher administrator publishes again.
    await write_embeds(live, room, name, {"kind": "material", "ref": str(later)})
    async with asyncio.timeout(WAIT):
        while (await f.call("teacher", "GET", export)).text.count("embed-unavailable") < 5:
            await asyncio.sleep(0.02)
    assert f"/m/{later}" not in (await live.http.get("/p/gallery-2027")).text
    assert (await live.http.get(f"/p/gallery-2027/m/{later}")).status_code == 404
    chosen = await f.ok("teacher_admin", "PATCH", "/publishing", {"pages": [page["id"]]})
    assert chosen["pages"] == [page["id"]]
    assert f"/m/{later}" in (await live.http.get("/p/gallery-2027")).text
    assert (await live.http.get(f"/p/gallery-2027/m/{later}")).status_code == 200
    # A page back to draft takes its images with it; one click takes everything.
    await f.ok("teacher_admin", "PATCH", f"/pages/{page['id']}", {"state": "draft"})
    assert (await live.http.get(f"/p/gallery-2027/m/{first}")).status_code == 404
    await f.ok("teacher_admin", "PATCH", f"/pages/{page['id']}", {"state": "published"})
    assert (await live.http.get(f"/p/gallery-2027/m/{first}")).status_code == 200
    await f.ok("teacher_admin", "DELETE", "/showcase")
    assert (await live.http.get(f"/p/gallery-2027/m/{first}")).status_code == 404
