"""Pages, the journal and the public showcase in Chromium against the real server.

The teacher administrator builds a page with the rich-text editor and an image of the project's
materials (inserted with the picker, from the keyboard), publishes it and the showcase, which
serves the processed image. The other tests start from a room prepared over the API (`walk`: a
published page with the photo, a journal post with it attached), so each passes or fails on its
own: the pupil reads the page, sees the menu change live and posts in the journal, where the
teacher approves the post; the screens are looked at on a phone and a laptop in Arabic
(right-to-left) and Italian.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, Locator, Page, expect
from pycrdt import XmlElement, XmlText

from tests.browser.conftest import Site, check_screen, new_context, sign_in, unique_text
from tests.materials.support import gps_photo, make_collection, processed, upload
from tests.support.waiting import WAIT, eventually_async
from tests.support.yjs_client import YjsClient

BODY = unique_text("The Tevere flows through Rome")
WALK = "Along the Tevere"


@dataclass
class Walk:
    """What the room holds before a test here starts: the photo and a published page."""

    photo: int
    page_id: int


@pytest.fixture(scope="module")
async def walk(site: Site) -> Walk:
    """A published page whose body is `BODY` and the photo, and a journal post with the photo
    attached, made as any API and Yjs client could."""
    headers = {"Authorization": f"Bearer {site.teacher_token}"}
    base = f"/api/projects/{site.project_id}"
    photo = await add_photo(site)
    made = await site.live.http.post(f"{base}/pages", json={"title": WALK}, headers=headers)
    assert made.status_code == 201, made.text
    page_id = made.json()["id"]
    await write_body(
        site,
        WALK,
        [
            XmlElement("paragraph", contents=[XmlText(BODY)]),
            XmlElement("embed", {"kind": "material", "ref": str(photo)}),
        ],
    )
    published = await site.live.http.patch(
        f"{base}/pages/{page_id}", json={"state": "published"}, headers=headers
    )
    assert published.status_code == 200, published.text
    post = {"body": "The heron by the bridge", "materials": [photo]}
    posted = await site.live.http.post(f"{base}/journal", json=post, headers=headers)
    assert posted.status_code == 201, posted.text
    return Walk(photo, page_id)


async def open_room(page: Page, site: Site, view: str) -> None:
    await page.goto(f"/#/p/{site.project_id}/{view}")
    await expect(page.locator(".banner.link-connecting, .banner.link-offline")).to_have_count(0)


async def add_photo(site: Site) -> int:
    """An approved image in the project's materials (the materials screen is not this test's)."""
    headers = {"Authorization": f"Bearer {site.teacher_token}"}
    http, project = site.live.http, site.project_id
    album = await make_collection(http, headers, project, "album", title="River photos")
    sent = await upload(http, headers, project, album, gps_photo((240, 160)), "heron.jpg")
    done = await processed(http, headers, sent)
    assert done["status"] == "done", done
    return int(done["material_id"])


async def write_body(site: Site, title: str, blocks: list[XmlElement]) -> None:
    """Appends blocks to a page's body as any y-websocket client could."""
    headers = {"Authorization": f"Bearer {site.teacher_token}"}
    base = f"/api/projects/{site.project_id}/pages"
    listed = (await site.live.http.get(base, headers=headers)).json()["pages"]
    [page_id] = [p["id"] for p in listed if p["title"] == title]
    name = (await site.live.http.get(f"{base}/{page_id}", headers=headers)).json()["document"]
    editor = await YjsClient.connect(site.live.url, site.project_id, name, site.teacher_token)
    async with asyncio.timeout(WAIT):
        await editor.synced.wait()
    await editor.edit(lambda doc: [editor.fragment.children.append(b) for b in blocks])
    await editor.close()


async def showcase_text(site: Site) -> str:
    response = await site.live.http.get("/p/water-stories")
    return response.text if response.status_code == 200 else ""


async def test_a_teacher_builds_and_publishes_a_page_and_the_showcase(
    teacher: Page, pupil: Page, site: Site, walk: Walk
) -> None:
    await open_room(teacher, site, "chat/general")
    await teacher.locator(".room-nav").get_by_role("link", name="Pages").click()
    await teacher.get_by_label("Page title").fill("Our river walk")
    await teacher.get_by_role("button", name="Create page").click()
    await expect(teacher.get_by_role("heading", name="Our river walk", level=1)).to_be_visible()
    await expect(teacher.get_by_text("Draft: pupils cannot see it yet.")).to_be_visible()
    await teacher.locator(".doc-body").click()
    typed = unique_text("We walked from the bridge to the island")
    await teacher.keyboard.type(typed)
    # An image from the materials, inserted with the picker from the keyboard alone.
    await teacher.keyboard.press("Enter")
    await teacher.get_by_role("button", name="Insert").focus()
    await teacher.keyboard.press("Enter")
    picker = teacher.get_by_role("dialog", name="Insert into the page")
    await expect(picker.get_by_label("What to insert")).to_be_focused()
    await expect(picker.get_by_label("Which one")).to_contain_text("River photos · heron.jpg")
    await check_screen(teacher, "69-embed-picker")
    await teacher.keyboard.press("Tab")
    await expect(picker.get_by_label("Which one")).to_be_focused()
    await teacher.keyboard.press("Tab")
    await teacher.keyboard.press("Tab")
    await expect(picker.get_by_role("button", name="Insert")).to_be_focused()
    await teacher.keyboard.press("Enter")
    await expect(picker).to_have_count(0)
    image = teacher.locator(".doc-body figure.embed img[alt='heron.jpg']")
    await expect(image).to_be_visible()
    await eventually_async(lambda: _loaded(image))
    # A draft: the pupil's menu lacks it; publishing shows it to her live.
    await open_room(pupil, site, "pages")
    await expect(pupil.locator(".pages-menu").get_by_role("link", name=WALK)).to_be_visible()
    await expect(pupil.locator(".pages-menu").get_by_text("Our river walk")).to_have_count(0)
    await teacher.get_by_role("button", name="Publish").click()
    await expect(
        pupil.locator(".pages-menu").get_by_role("link", name="Our river walk")
    ).to_be_visible()
    # A subpage, reordered from the keyboard among its siblings.
    await teacher.get_by_label("Page title").fill("Day two")
    await teacher.get_by_role("button", name="Create page").click()
    await expect(teacher.get_by_role("heading", name="Day two", level=1)).to_be_visible()
    await teacher.get_by_role("button", name="Move Day two up").focus()
    await teacher.keyboard.press("Enter")
    top = teacher.locator(".pages-menu > .pages-tree > li > .page-item a")
    await expect(top).to_have_text([WALK, "Day two", "Our river walk"])
    await check_screen(teacher, "70-pages-teacher")

    # The showcase: the published page, online at its address, with the typed text.
    await teacher.locator(".room-nav").get_by_role("link", name="Showcase").click()
    await teacher.get_by_label("Public address").fill("water-stories")
    await teacher.get_by_label("Our river walk").check()
    await teacher.get_by_label("Showcase online").check()
    await teacher.get_by_role("button", name="Save").click()
    await expect(teacher.get_by_text("Online at")).to_be_visible()
    await check_screen(teacher, "71-showcase-settings")
    await eventually_async(lambda: _has(site, typed))
    shown = await showcase_text(site)
    assert "Day two" not in shown  # a draft, never chosen
    assert BODY not in shown  # published, but not chosen for the showcase
    # The image's title is its alt text; a file name (which may name a pupil) never is.
    assert f'<img src="/p/water-stories/m/{walk.photo}" alt=""' in shown and "heron" not in shown
    served = await site.live.http.get(f"/p/water-stories/m/{walk.photo}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"


async def _loaded(image: Locator) -> bool:
    return bool(await image.evaluate("(img) => img.complete && img.naturalWidth > 0"))


async def _has(site: Site, text: str) -> bool:
    return text in await showcase_text(site)


async def test_a_pupil_reads_the_page_and_posts_in_the_journal(
    teacher: Page, pupil: Page, site: Site, walk: Walk
) -> None:
    # Another project's material, written into the page by a client other than ours: the
    # pupil sees the "unavailable" placeholder in its place.
    await write_body(site, WALK, [XmlElement("embed", {"kind": "material", "ref": "999999"})])
    await open_room(pupil, site, "pages")
    await pupil.locator(".pages-menu").get_by_role("link", name=WALK).click()
    await expect(pupil.locator(".doc-body figure.embed-unavailable")).to_have_text(
        "This embedded item is unavailable."
    )
    await expect(pupil.locator(".doc-body")).to_contain_text(BODY)
    await expect(pupil.locator(".doc-body[contenteditable=true]")).to_have_count(0)
    # The image, through the pupil's own signed link; no Insert control for a reader.
    image = pupil.locator(".doc-body figure.embed img[alt='heron.jpg']")
    await expect(image).to_be_visible()
    await eventually_async(lambda: _loaded(image))
    await expect(pupil.get_by_role("button", name="Insert")).to_have_count(0)
    await expect(pupil.get_by_role("button", name="Publish")).to_have_count(0)
    await check_screen(pupil, "72-page-pupil")

    await open_room(teacher, site, "journal")
    await open_room(pupil, site, "journal")
    post = unique_text("We saw the river **today**")
    await pupil.get_by_label("Write an update").fill(post.replace("**today**", "today"))
    # With the heron photo attached, from the keyboard.
    await pupil.get_by_text("Attach materials").focus()
    await pupil.keyboard.press("Enter")
    await pupil.get_by_label("River photos · heron.jpg").focus()
    await pupil.keyboard.press("Space")
    await pupil.get_by_role("button", name="Post").click()
    await expect(pupil.get_by_text("Sent: a teacher will check it")).to_be_visible()
    waiting = teacher.locator(".journal-post.in-review")
    await expect(waiting).to_contain_text("Waiting for a teacher")
    attached = waiting.locator(".attached-materials img[alt='heron.jpg']")
    await expect(attached).to_be_visible()
    await eventually_async(lambda: _loaded(attached))
    await waiting.get_by_role("button", name="Approve").click()
    await expect(pupil.locator(".journal-post.in-review")).to_have_count(0)
    await teacher.locator(".journal-post").first.get_by_role("button", name="Like").click()
    await expect(pupil.locator(".journal-post").first).to_contain_text("1 like")
    await pupil.locator(".journal-post").first.get_by_role("button", name="0 comments").click()
    await pupil.get_by_label("Your comment").fill("Thank you!")
    await pupil.get_by_role("button", name="Comment", exact=True).click()
    await expect(pupil.locator(".journal-comment")).to_contain_text("Thank you!")
    await teacher.locator(".journal-post").first.get_by_role("button", name="Pin").click()
    await expect(pupil.get_by_role("heading", name="Pinned")).to_be_visible()
    await check_screen(pupil, "73-journal-pupil")


@pytest.mark.parametrize("locale", ["ar", "it"])
@pytest.mark.parametrize(("width", "height"), [(375, 667), (1366, 768)])
async def test_pages_and_journal_on_a_phone_and_a_laptop(
    browser: Browser, site: Site, walk: Walk, locale: str, width: int, height: int
) -> None:
    context = await new_context(browser, site, locale)
    page = await context.new_page()
    await page.set_viewport_size({"width": width, "height": height})
    await sign_in(page, *site.teacher)
    await expect(page.locator("html")).to_have_attribute("dir", "rtl" if locale == "ar" else "ltr")
    await open_room(page, site, f"pages/{walk.page_id}")
    await expect(page.locator(".doc-body")).to_contain_text(BODY)
    await expect(page.locator(".doc-body figure.embed img")).to_be_visible()
    await check_screen(page, f"74-page-{locale}-{width}")
    await open_room(page, site, "journal")
    await expect(page.locator(".journal-post").first).to_be_visible()
    await expect(page.locator(".attached-materials img").first).to_be_visible()
    await check_screen(page, f"75-journal-{locale}-{width}")
    await open_room(page, site, "showcase")
    await expect(page.locator(".showcase-form")).to_be_visible()
    await check_screen(page, f"76-showcase-{locale}-{width}")
    await context.close()


async def test_a_title_being_typed_survives_a_live_menu_change(teacher: Page, site: Site) -> None:
    """Another teacher adds a page while this one types a new page's title: the menu changes
    live, and the title being typed stays (a busy machine's late first menu wiped it once)."""
    await open_room(teacher, site, "pages")
    field = teacher.get_by_label("Page title")
    await field.fill("Typed while the menu changed")
    made = await site.live.http.post(
        f"/api/projects/{site.project_id}/pages",
        json={"title": "Added elsewhere"},
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    assert made.status_code == 201, made.text
    menu = teacher.locator(".pages-menu")
    await expect(menu.get_by_role("link", name="Added elsewhere")).to_be_visible()
    await expect(field).to_have_value("Typed while the menu changed")
    # The screen built again (the room does so after a reconnect) keeps it too.
    await open_room(teacher, site, "chat/general")
    await open_room(teacher, site, "pages")
    await expect(teacher.get_by_label("Page title")).to_have_value("Typed while the menu changed")


async def test_a_teacher_administrator_reorders_pages_by_dragging(
    teacher: Page, pupil: Page, site: Site, walk: Walk
) -> None:
    """Dragging a page onto a sibling puts it in that sibling's place, for everyone, live."""
    headers = {"Authorization": f"Bearer {site.teacher_token}"}
    base = f"/api/projects/{site.project_id}/pages"
    made = await site.live.http.post(base, json={"title": "Plans (draft)"}, headers=headers)
    assert made.status_code == 201, made.text
    await open_room(teacher, site, "pages")
    await open_room(pupil, site, "pages")
    titles = teacher.locator(".pages-menu > .pages-tree > li > .page-item a")
    for title in (WALK, "Plans (draft)"):  # the menu has come (it arrives after the screen)
        await expect(titles.filter(has_text=title)).to_have_count(1)
    before = await titles.all_inner_texts()
    assert len(before) >= 2 and WALK in before
    moving, target = before[-1], before[0]
    await teacher.locator(".pages-menu li", has_text=moving).drag_to(
        teacher.locator(".pages-menu li", has_text=target)
    )
    after = [moving, *before[:-1]]
    await expect(titles).to_have_text(after)
    listed = await site.live.http.get(base, headers=headers)
    stored = sorted(
        (p for p in listed.json()["pages"] if p["parent_id"] is None), key=lambda p: p["position"]
    )
    assert [p["title"] for p in stored] == after
    # The pupil's menu, changed live, still holds no draft.
    published = [p["title"] for p in stored if p["state"] == "published"]
    assert WALK in published and "Plans (draft)" not in published
    seen = pupil.locator(".pages-menu > .pages-tree > li > .page-item a")
    await expect(seen).to_have_text(published)


async def test_older_posts_page_in_and_an_author_changes_and_deletes_a_post(
    teacher: Page, pupil: Page, site: Site
) -> None:
    """Beyond the newest 50: "Show older posts" from the keyboard. A change and a deletion
    reach the other reader live; the deleted post stays as a tombstone."""
    headers = {"Authorization": f"Bearer {site.teacher_token}"}
    base = f"/api/projects/{site.project_id}/journal"
    oldest = unique_text("The oldest update")
    for body in [oldest, *(f"Update number {n}" for n in range(1, 51))]:
        sent = await site.live.http.post(base, json={"body": body}, headers=headers)
        assert sent.status_code == 201, sent.text
    await open_room(teacher, site, "journal")
    await open_room(pupil, site, "journal")
    await expect(pupil.get_by_text("Update number 50")).to_be_visible()
    await expect(pupil.get_by_text(oldest)).to_have_count(0)
    await pupil.get_by_role("button", name="Show older posts").focus()
    await pupil.keyboard.press("Enter")
    await expect(pupil.get_by_text(oldest)).to_be_visible()
    assert await pupil.evaluate("document.activeElement.tagName") == "BUTTON"

    newest = teacher.locator(".journal-post", has_text="Update number 50")
    await newest.get_by_role("button", name="Change").click()
    changed = teacher.get_by_role("dialog", name="Change this post")
    await changed.get_by_label("The post").fill("Update number 50, **corrected**")
    await changed.get_by_role("button", name="Save").click()
    seen = pupil.locator(".journal-post", has_text="Update number 50, corrected")
    await expect(seen).to_contain_text("(changed)")
    await expect(seen.locator("strong", has_text="corrected")).to_be_visible()
    # The older page stays shown through the live reload.
    await expect(pupil.get_by_text(oldest)).to_be_visible()
    await (
        teacher.locator(".journal-post", has_text="corrected")
        .get_by_role("button", name="Delete")
        .click()
    )
    await teacher.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(pupil.get_by_text("Update number 50, corrected")).to_have_count(0)
    await expect(pupil.locator(".journal-post", has_text="This post was deleted.")).to_have_count(1)
    await check_screen(pupil, "77-journal-older-pupil")


async def test_an_author_changes_a_posts_attachments_in_the_edit_dialog(
    teacher: Page, pupil: Page, site: Site, walk: Walk
) -> None:
    """Issue 18: the edit dialog changes the attachments too (from the keyboard), with the
    text or alone; the attach list opens with the post's materials ticked."""
    headers = {"Authorization": f"Bearer {site.teacher_token}"}
    text = unique_text("Our walk along the river")
    sent = await site.live.http.post(
        f"/api/projects/{site.project_id}/journal", json={"body": text}, headers=headers
    )
    assert sent.status_code == 201, sent.text
    await open_room(teacher, site, "journal")
    await open_room(pupil, site, "journal")
    mine = teacher.locator(".journal-post", has_text=text)
    seen = pupil.locator(".journal-post", has_text=text)
    await expect(seen).to_be_visible()
    await expect(seen.locator(".attached-materials")).to_have_count(0)

    await mine.get_by_role("button", name="Change").click()
    dialog = teacher.get_by_role("dialog", name="Change this post")
    await dialog.get_by_label("The post").fill(f"{text}, with a heron")
    await dialog.get_by_text("Attach materials").focus()
    await teacher.keyboard.press("Enter")
    heron = dialog.get_by_label("River photos · heron.jpg")
    await expect(heron).not_to_be_checked()
    await heron.focus()
    await teacher.keyboard.press("Space")
    await check_screen(teacher, "78-journal-edit-attachments")
    await dialog.get_by_role("button", name="Save").click()
    seen = pupil.locator(".journal-post", has_text=f"{text}, with a heron")
    # Into view, as a reader scrolls: the pupil's page is still scrolled down to the older
    # posts of the test before, and an attached image loads lazily.
    await seen.scroll_into_view_if_needed()
    await expect(seen.locator(".attached-materials img[alt='heron.jpg']")).to_be_visible()

    # Again: the heron is ticked; unticked, it goes while the text stays.
    await (
        teacher.locator(".journal-post", has_text=text).get_by_role("button", name="Change").click()
    )
    await dialog.get_by_text("Attach materials").click()
    await expect(heron).to_be_checked()
    await heron.uncheck()
    await dialog.get_by_role("button", name="Save").click()
    await expect(seen.locator(".attached-materials")).to_have_count(0)
    await expect(seen).to_contain_text(f"{text}, with a heron")
