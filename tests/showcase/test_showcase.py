"""The public showcase: only what a teacher administrator published, never a pupil's surname,
no script; gone when unpublished or when the project is closed, readable when archived."""

from __future__ import annotations

import asyncio

from pycrdt import XmlElement, XmlText

from tests.documents.test_documents import token
from tests.support.forums import Forums
from tests.support.live import Live
from tests.support.room import make_room
from tests.support.waiting import WAIT
from tests.support.yjs_client import YjsClient


async def write_page(live: Live, room, pages: Forums, title: str, text: str, **extra) -> dict:
    page = await pages.ok("teacher_admin", "POST", "/pages", {"title": title, **extra})
    name = (await pages.ok("teacher_admin", "GET", f"/pages/{page['id']}"))["document"]
    editor = await YjsClient.connect(live.url, room.project_id, name, token(room, "teacher"))
    async with asyncio.timeout(WAIT):
        await editor.synced.wait()
    await editor.edit(
        lambda doc: editor.fragment.children.append(XmlElement("paragraph", {}, [XmlText(text)]))
    )
    content = f"/docs/{page['document_id']}/content?format=text"
    async with asyncio.timeout(WAIT):
        while text not in (await pages.call("teacher", "GET", content)).text:
            await asyncio.sleep(0.02)
    await editor.close()
    return page


async def test_the_showcase_shows_only_what_was_published(live: Live) -> None:
    room = await make_room(live.http, live.services)
    pages = Forums(live.http, room)
    await pages.ok("teacher_admin", "PATCH", "/publishing", {"pupil_posts": "open"})
    plan = await write_page(live, room, pages, "Our <river> plan", "We walk along the Tagus")
    draft = await write_page(live, room, pages, "Unfinished", "not ready yet")
    staff = await write_page(
        live, room, pages, "Staff notes", "teachers only text", visibility="teachers"
    )
    for page in (plan, staff):
        await pages.ok("teacher_admin", "PATCH", f"/pages/{page['id']}", {"state": "published"})
    pupil_post = await pages.ok("pupil", "POST", "/journal", {"body": "I saw a **heron**"})
    await pages.ok("pupil", "POST", f"/journal/{pupil_post['id']}/comments", {"body": "secret"})
    hidden_post = await pages.ok("teacher", "POST", "/journal", {"body": "internal plans"})
    # Bad choices are refused whole: drafts, teachers-only pages, unknown ids, a bad slug.
    for body, code in (
        ({"pages": [plan["id"], draft["id"]]}, "not_published"),
        ({"pages": [staff["id"]]}, "not_published"),
        ({"pages": [999999]}, "not_found"),
        ({"slug": "Not A Slug"}, "validation_failed"),
        ({"slug": "x"}, "validation_failed"),
        ({"showcase_on": True}, "validation_failed"),
    ):
        refused = await pages.call("teacher_admin", "PATCH", "/publishing", body)
        assert refused.json()["error"]["code"] == code, body
    for role in ("teacher", "pupil_admin"):
        refused = await pages.call(role, "PATCH", "/publishing", {"slug": "rivers"})
        assert refused.status_code == 403
    chosen = await pages.ok(
        "teacher_admin",
        "PATCH",
        "/publishing",
        {"slug": "rivers-2027", "pages": [plan["id"]], "posts": [pupil_post["id"]]},
    )
    assert chosen["url"] is None  # chosen, not yet on
    assert (await live.http.get("/p/rivers-2027")).status_code == 404
    chosen = await pages.ok("teacher_admin", "PATCH", "/publishing", {"showcase_on": True})
    assert chosen["url"] == "/p/rivers-2027" and chosen["pages"] == [plan["id"]]
    shown = await live.http.get("/p/rivers-2027")
    assert shown.status_code == 200
    html = shown.text
    assert "Our &lt;river&gt; plan" in html and "We walk along the Tagus" in html
    assert "<strong>heron</strong>" in html
    for absent in ("not ready yet", "teachers only text", "secret", "internal plans", "<script"):
        assert absent not in html, absent
    # The pupil "r pupil" appears by first name only; never their surname.
    assert '<p class="byline">r</p>' in html and "r pupil" not in html
    assert 'content="noindex, nofollow"' in html and shown.headers["x-robots-tag"]
    assert shown.headers["cache-control"].startswith("public, max-age=")
    # Another project cannot take the address.
    other = await make_room(live.http, live.services, prefix="o")
    taken = await Forums(live.http, other).call(
        "teacher_admin", "PATCH", "/publishing", {"slug": "rivers-2027"}
    )
    assert taken.status_code == 409
    # No names at all when the teacher says so; a page back to draft leaves the showcase.
    await pages.ok("teacher_admin", "PATCH", "/publishing", {"pupil_names": "none"})
    await pages.ok("teacher_admin", "PATCH", f"/pages/{plan['id']}", {"state": "draft"})
    html = (await live.http.get("/p/rivers-2027")).text
    assert "byline" not in html and "Tagus" not in html and "heron" in html
    assert hidden_post["id"] not in chosen["posts"]
    # Archived: still readable. One click: gone, audited. Closed: gone for good.
    await pages.ok("teacher_admin", "PATCH", "", {"status": "archived"})
    assert (await live.http.get("/p/rivers-2027")).status_code == 200
    await pages.ok("teacher_admin", "PATCH", "", {"status": "active"})
    await pages.ok("teacher_admin", "DELETE", "/showcase")
    gone = await live.http.get("/p/rivers-2027")
    assert gone.status_code == 404 and "heron" not in gone.text
    log = await pages.ok("teacher_admin", "GET", "/audit")
    actions = [e["action"] for e in log["entries"]]
    assert "showcase.unpublish" in actions and "showcase.publish" in actions
    await pages.ok("teacher_admin", "PATCH", "/publishing", {"showcase_on": True})
    assert (await live.http.get("/p/rivers-2027")).status_code == 200
    await pages.ok("teacher_admin", "PATCH", "", {"status": "closed"})
    assert (await live.http.get("/p/rivers-2027")).status_code == 404
