"""Search over pages (titles and the text of their documents) and the journal, and the pages
of "What's new": only what the caller may read, kept current as pages are edited."""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from tests.support.forums import Forums
from tests.support.live import Live
from tests.support.room import make_room


async def write(f: Forums, role: str, doc_id: int, text: str) -> None:
    """Replaces the page's body with one paragraph, as an editor would, over REST."""
    path = f"/docs/{doc_id}/content"
    state = (await f.call(role, "GET", path, format="update")).content
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    fragment = doc.get("content", type=XmlFragment)
    before = doc.get_state()
    while len(fragment.children):
        del fragment.children[0]
    fragment.children.append(XmlElement("paragraph", {}, [XmlText(text)]))
    stored = await f.http.post(
        f"{f.base}/docs/{doc_id}/update",
        content=doc.get_update(before),
        headers=f.room.headers[role],
    )
    assert stored.status_code == 200, stored.text


async def found(f: Forums, role: str, q: str) -> list[tuple[str, int]]:
    hits = (await f.ok(role, "GET", "/search", q=q))["hits"]
    return [(h["kind"], h["id"]) for h in hits]


async def test_pages_are_found_by_title_and_text_only_by_those_who_see_them(live: Live) -> None:
    room = await make_room(live.http, live.services)
    other = await make_room(live.http, live.services, "other")
    f = Forums(live.http, room)
    river = await f.ok("teacher_admin", "POST", "/pages", {"title": "Our river walk"})
    await write(f, "teacher", river["document_id"], "Il fiume Tevere attraversa Roma")
    staff = await f.ok(
        "teacher_admin", "POST", "/pages", {"title": "Fiume: marks", "visibility": "teachers"}
    )
    under = await f.ok(
        "teacher_admin", "POST", "/pages", {"title": "Fiume day two", "parent_id": river["id"]}
    )
    await f.ok("teacher_admin", "PATCH", f"/pages/{under['id']}", {"state": "published"})
    o = Forums(live.http, other)
    elsewhere = await o.ok("teacher_admin", "POST", "/pages", {"title": "fiume elsewhere"})
    await o.ok("teacher_admin", "PATCH", f"/pages/{elsewhere['id']}", {"state": "published"})
    # Drafts: teachers and pupil administrators find them, by the body's text and the title.
    assert await found(f, "teacher", "tevere") == [("page", river["id"])]
    assert await found(f, "pupil_admin", "fiume") == [
        ("page", under["id"]),
        ("page", river["id"]),
    ]
    hit = (await f.ok("teacher", "GET", "/search", q="tevere"))["hits"][0]
    assert hit["title"] == "Our river walk" and "<mark>Tevere</mark>" in hit["snippet"]
    assert ("page", staff["id"]) in await found(f, "teacher", "marks")
    # Pupils: no draft, no teachers-only page, no published page under a draft.
    assert await found(f, "pupil", "fiume") == []
    await f.ok("teacher_admin", "PATCH", f"/pages/{river['id']}", {"state": "published"})
    assert await found(f, "pupil", "fiume") == [("page", under["id"]), ("page", river["id"])]
    assert await found(f, "pupil", "marks") == []
    # The index follows edits and renames; a deleted page is not found.
    await write(f, "pupil_admin", river["document_id"], "Boğaziçi Köprüsü'nü gördük")
    assert await found(f, "pupil", "tevere") == []
    assert await found(f, "pupil", "köprü") == [("page", river["id"])]
    await f.ok("teacher_admin", "PATCH", f"/pages/{under['id']}", {"title": "Limfjorden"})
    assert await found(f, "pupil", "limfjord") == [("page", under["id"])]
    await f.ok("teacher_admin", "DELETE", f"/pages/{under['id']}")
    assert await found(f, "teacher", "limfjord") == []
    assert await found(f, "teacher", "elsewhere") == []


async def test_journal_posts_are_found_as_the_journal_shows_them(live: Live) -> None:
    room = await make_room(live.http, live.services)
    f = Forums(live.http, room)
    published = await f.ok(
        "teacher", "POST", "/journal", {"body": "Ærø: we saw the ferry, then Köprüsü"}
    )
    comment = await f.ok(
        "pupil", "POST", f"/journal/{published['id']}/comments", {"body": "ferry!"}
    )
    review = await f.ok("pupil", "POST", "/journal", {"body": "My ferry drawing"})
    assert review["state"] == "review"
    gone = await f.ok("expert", "POST", "/journal", {"body": "ferry typo"})
    await f.ok("expert", "DELETE", f"/journal/{gone['id']}")
    everyone = [("journal", comment["id"]), ("journal", published["id"])]
    mine = [("journal", review["id"]), *everyone]
    assert await found(f, "pupil", "ferry") == mine
    assert await found(f, "teacher", "ferry") == mine
    assert await found(f, "pupil_admin", "ferry") == everyone
    hit = (await f.ok("pupil", "GET", "/search", q="ferry"))["hits"][1]
    assert hit["parent_id"] == published["id"] and "<mark>ferry</mark>" in hit["snippet"]
    assert await found(f, "pupil", "ærø köprü") == [("journal", published["id"])]
    # A comment on a deleted post is not found either.
    await f.ok("teacher", "DELETE", f"/journal/{published['id']}")
    assert await found(f, "pupil_admin", "ferry") == []
    assert await found(f, "teacher", "ferry") == [("journal", review["id"])]


async def test_results_page_through_every_source_without_gaps(live: Live) -> None:
    room = await make_room(live.http, live.services)
    f = Forums(live.http, room)
    expected = []
    for n in range(3):
        page = await f.ok("teacher_admin", "POST", "/pages", {"title": f"Volcano {n}"})
        post = await f.ok("teacher", "POST", "/journal", {"body": f"volcano post {n}"})
        expected += [("page", page["id"]), ("journal", post["id"])]
    seen: list[tuple[str, int]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        got = await f.ok("teacher", "GET", "/search", q="volcano", **params)
        seen += [(h["kind"], h["id"]) for h in got["hits"]]
        cursor = got["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(expected) and len(seen) == len(expected)
    bad = await f.call("teacher", "GET", "/search", q="volcano", cursor="1.2")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "validation_failed"


async def test_whats_new_names_the_pages_others_changed_since_i_opened_them(live: Live) -> None:
    room = await make_room(live.http, live.services)
    f = Forums(live.http, room)
    page = await f.ok("teacher_admin", "POST", "/pages", {"title": "Plan"})
    draft = await f.ok("teacher_admin", "POST", "/pages", {"title": "Draft"})

    async def new(role: str) -> list[int] | None:
        return (await f.ok(role, "GET", "/activity"))["pages"]  # type: ignore[no-any-return]

    assert await new("pupil") == []
    assert await new("teacher_admin") == []  # their own pages
    assert await new("pupil_admin") == [page["id"], draft["id"]]
    await f.ok("teacher_admin", "PATCH", f"/pages/{page['id']}", {"state": "published"})
    assert await new("pupil") == [page["id"]]
    await f.ok("pupil", "POST", f"/pages/{page['id']}/read")
    assert await new("pupil") == []
    await write(f, "teacher", page["document_id"], "Week one: rivers")
    assert await new("pupil") == [page["id"]]
    assert page["id"] not in (await new("teacher") or [])
    assert await new("teacher_admin") == [page["id"]]
    # A page the member does not see cannot be marked (it does not exist for them).
    hidden = await f.call("pupil", "POST", f"/pages/{draft['id']}/read")
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
