"""Forums, the teachers' bulletin, search and "what's new" in Chromium against the real server.

The tests share one server and the two people's pages, and run in order: the teacher opens a
forum and a thread, the pupil replies live, search finds it, the bulletin is the teachers' own.
"""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import Site, check_screen, new_context, sign_in, unique_text
from tests.materials.support import gps_photo, make_collection, processed, upload


async def open_room(page: Page, site: Site, view: str) -> None:
    await page.goto(f"/#/p/{site.project_id}/{view}")
    await expect(page.locator(".banner.link-connecting, .banner.link-offline")).to_have_count(0)


async def test_a_pupil_replies_and_the_teacher_sees_it_live(
    teacher: Page, pupil: Page, site: Site
) -> None:
    await open_room(teacher, site, "chat/general")
    await teacher.get_by_role("link", name="Forums").click()
    await expect(teacher.get_by_text("There are no forums yet.")).to_be_visible()
    await teacher.get_by_label("Forum name").fill("Rivers")
    await teacher.get_by_role("button", name="Create the forum").click()
    await teacher.get_by_role("link", name="Rivers").click()
    await teacher.get_by_label("Title").fill("Our rivers")
    await teacher.get_by_label("First post").fill("Which river runs through **your** town?")
    await teacher.get_by_role("button", name="Post the thread").click()
    await expect(teacher.get_by_role("heading", name="Our rivers")).to_be_visible()
    # The light markup arrives as HTML the client rebuilt from its allow-list.
    await expect(teacher.locator(".post .body strong")).to_have_text("your")

    # The pupil finds the thread through the forum list, and replies to the opening post.
    await open_room(pupil, site, "forums")
    await check_screen(pupil, "29-forums-pupil")
    await pupil.get_by_role("link", name="Rivers").click()
    await expect(pupil.get_by_text("Started by Ana")).to_be_visible()
    await check_screen(pupil, "30-forum-threads-pupil")
    await pupil.get_by_role("link", name="Our rivers").click()
    # A reaction, seen live by the teacher.
    opening = pupil.locator(".post").first
    await opening.locator("summary", has_text="React").click()
    await opening.get_by_role("button", name="React with 👍").click()
    await expect(teacher.locator(".post").first.locator(".reaction")).to_have_text("👍 1")
    await opening.get_by_role("button", name="Answer").click()
    reply = unique_text("The Tevere flows through Rome")
    await pupil.get_by_label("Your reply").fill(reply + " <script>alert(1)</script>")
    await pupil.get_by_role("button", name="Post the reply").click()

    # Live on the teacher's page, with its quote, and the typed tag shown as text.
    seen = teacher.locator(".post", has_text=reply)
    await expect(seen).to_have_count(1)
    await expect(seen.locator(".reply-quote")).to_contain_text("Ana")
    await expect(seen.locator(".body")).to_contain_text("<script>alert(1)</script>")
    assert await teacher.locator(".post script").count() == 0
    await check_screen(teacher, "31-forum-thread-teacher")

    # A report reaches the teacher, live, on the page holding the post.
    await pupil.locator(".post").first.get_by_role("button", name="Report").click()
    await pupil.get_by_label("What is wrong with it?").fill("Off topic")
    await pupil.get_by_role("button", name="Send to the teachers").click()
    await expect(teacher.get_by_role("status").filter(has_text="Off topic")).to_have_text(
        "A post was reported: “Off topic”. The audit log keeps it."
    )

    # The teacher locks the thread: the pupil's page says so live and offers no reply form.
    await teacher.get_by_role("button", name="Lock").click()
    await expect(pupil.get_by_text("This thread is locked.")).to_be_visible()
    await expect(pupil.get_by_label("Your reply")).to_have_count(0)
    await check_screen(pupil, "32-forum-thread-locked")
    await teacher.get_by_role("button", name="Lock").click()
    await expect(pupil.get_by_label("Your reply")).to_be_visible()


async def test_posts_missed_offline_arrive_once_on_return(
    teacher: Page, pupil: Page, site: Site
) -> None:
    # Both are on the thread; the pupil's network drops while the teacher posts twice.
    await expect(pupil.get_by_role("heading", name="Our rivers")).to_be_visible()
    await pupil.context.set_offline(True)
    await expect(pupil.locator(".banner.link-offline")).to_be_visible()
    missed = [unique_text("Missed while offline") for _ in range(2)]
    for text in missed:
        await teacher.get_by_label("Your reply").fill(text)
        await teacher.get_by_role("button", name="Post the reply").click()
        await expect(teacher.locator(".post", has_text=text)).to_have_count(1)
    await pupil.context.set_offline(False)
    await expect(pupil.locator(".banner.link-offline")).to_have_count(0)
    for text in missed:
        await expect(pupil.locator(".post", has_text=text)).to_have_count(1)


async def test_search_highlights_the_reply(teacher: Page, site: Site) -> None:
    await open_room(teacher, site, "search")
    await teacher.get_by_label("Search the whole project").fill("Tevere")
    await teacher.get_by_role("button", name="Search", exact=True).click()
    hit = teacher.locator(".search-hits li").first
    await expect(hit.locator("mark")).to_have_text("Tevere")
    await expect(hit.get_by_role("link")).to_have_text("Forum: Our rivers")
    # The escaped <script> of the reply is text in the snippet, never an element.
    assert await teacher.locator(".search-hits script").count() == 0
    await check_screen(teacher, "33-search")
    await hit.get_by_role("link").click()
    await expect(teacher.get_by_role("heading", name="Our rivers")).to_be_visible()


async def test_whats_new_counts_a_new_post(teacher: Page, pupil: Page, site: Site) -> None:
    # Opening the thread marks it read up to its newest post.
    await open_room(pupil, site, "forums")
    await pupil.get_by_role("link", name="Rivers").click()
    async with pupil.expect_response(lambda response: response.url.endswith("/read")):
        await pupil.get_by_role("link", name="Our rivers").click()
    await pupil.get_by_role("link", name="What's new").click()
    await expect(pupil.get_by_text("Nothing new: you have read everything.")).to_be_visible()
    await open_room(teacher, site, "forums")
    await teacher.get_by_role("link", name="Rivers").click()
    await teacher.get_by_role("link", name="Our rivers").click()
    await teacher.get_by_label("Your reply").fill("Ours is the Tagus.")
    await teacher.get_by_role("button", name="Post the reply").click()
    await expect(teacher.locator(".post", has_text="Ours is the Tagus.")).to_have_count(1)
    await open_room(pupil, site, "chat/general")
    await pupil.get_by_role("link", name="What's new").click()
    await expect(pupil.get_by_role("link", name="Our rivers: 1 new post")).to_be_visible()
    await check_screen(pupil, "34-whats-new")


async def test_the_bulletin_is_for_teachers_only(teacher: Page, pupil: Page, site: Site) -> None:
    await open_room(teacher, site, "bulletin")
    note = unique_text("Meeting on Friday")
    await teacher.get_by_label("A note for the other teachers").fill(note)
    await teacher.get_by_role("button", name="Post on the bulletin").click()
    await expect(teacher.locator(".post", has_text=note)).to_have_count(1)
    await check_screen(teacher, "35-bulletin")

    await open_room(pupil, site, "chat/general")
    await expect(pupil.get_by_role("link", name="Forums")).to_be_visible()
    await expect(pupil.get_by_role("link", name="Teachers' bulletin")).to_have_count(0)
    # Typed in by hand, the address shows the chat instead; search finds nothing of it.
    await open_room(pupil, site, "bulletin")
    await expect(pupil.locator(".composer textarea")).to_be_visible()
    await open_room(pupil, site, "search/Friday")
    await expect(pupil.get_by_role("status").filter(has_text="0 results")).to_be_visible()


async def test_a_moved_thread_leaves_the_forum_live(teacher: Page, pupil: Page, site: Site) -> None:
    await open_room(teacher, site, "forums")
    await teacher.get_by_label("Forum name").fill("Archive")
    await teacher.get_by_role("button", name="Create the forum").click()
    await expect(teacher.get_by_role("link", name="Archive")).to_be_visible()
    await open_room(pupil, site, "forums")
    await pupil.get_by_role("link", name="Rivers").click()
    await expect(pupil.get_by_role("link", name="Our rivers")).to_be_visible()

    await teacher.get_by_role("link", name="Rivers").click()
    await teacher.get_by_role("link", name="Our rivers").click()
    await teacher.get_by_label("Move to").select_option(label="Archive")
    await teacher.get_by_role("button", name="Move", exact=True).click()
    await expect(pupil.get_by_text("No threads here yet.")).to_be_visible()


async def test_the_thread_in_arabic_is_right_to_left(browser: Browser, site: Site) -> None:
    context = await new_context(browser, site, locale="ar-EG")
    page = await context.new_page()
    await sign_in(page, site.pupil[0], site.pupil[1])
    await open_room(page, site, "forums")
    await expect(page.locator("html")).to_have_attribute("dir", "rtl")
    await page.get_by_role("link", name="Archive").click()
    await page.get_by_role("link", name="Our rivers").click()
    await expect(page.get_by_label("ردّك")).to_be_visible()
    await check_screen(page, "36-forum-thread-arabic")
    await context.close()


async def test_search_and_whats_new_show_documents_forums_and_materials(
    browser: Browser, site: Site
) -> None:
    """Issue 17, as a pupil in Arabic on a phone and a teacher in Danish on a laptop: a new
    document, a thread (under its forum) and a material in "What's new"; a document and a
    material found by search, each opening from its hit."""
    word = unique_text("Limfjord").split()[1]  # one word no other test writes
    teacher_headers = {"Authorization": f"Bearer {site.teacher_token}"}
    base = f"/api/projects/{site.project_id}"
    doc = await site.live.http.post(
        f"{base}/docs",
        json={"name": f"diary-{word}", "title": f"Diary {word}", "kind": "richtext"},
        headers=teacher_headers,
    )
    assert doc.status_code == 201, doc.text
    forum = await site.live.http.post(
        f"{base}/forums", json={"title": f"Fjords {word}"}, headers=teacher_headers
    )
    assert forum.status_code == 201, forum.text
    thread = await site.live.http.post(
        f"{base}/forums/{forum.json()['id']}/threads",
        json={"title": "Where is the Limfjord?", "body": "In Jutland."},
        headers=teacher_headers,
    )
    assert thread.status_code == 201, thread.text
    album = await make_collection(site.live.http, teacher_headers, site.project_id, "album")
    location = await upload(
        site.live.http,
        teacher_headers,
        site.project_id,
        album,
        gps_photo(),
        f"{word}_map.jpg",
        title=f"Map of {word}",
    )
    material = await processed(site.live.http, teacher_headers, location)
    assert material["status"] == "done", material

    context = await new_context(browser, site, locale="ar-EG")
    pupil = await context.new_page()
    await pupil.set_viewport_size({"width": 375, "height": 667})
    await sign_in(pupil, site.pupil[0], site.pupil[1])
    await open_room(pupil, site, "activity")
    news = pupil.locator(".room-content")
    await expect(news.get_by_role("heading", name=f"Fjords {word}")).to_be_visible()
    await expect(
        news.get_by_role("link", name="Where is the Limfjord?: مشاركة جديدة واحدة")
    ).to_be_visible()
    await expect(news.get_by_role("heading", name="مستند واحد جديد أو معدّل")).to_be_visible()
    await expect(news.get_by_role("link", name=f"Diary {word}")).to_be_visible()
    await expect(news.get_by_role("heading", name="مادة واحدة جديدة")).to_be_visible()
    await expect(news.get_by_role("button", name=f"Map of {word}")).to_be_visible()
    await check_screen(pupil, "36-whats-new-documents-ar-375")
    await news.get_by_role("button", name="لقد رأيت هذه المواد").click()
    await expect(news.get_by_role("button", name=f"Map of {word}")).to_have_count(0)
    await open_room(pupil, site, f"search/{word}")
    hits = pupil.locator(".search-hits li")
    await expect(hits).to_have_count(2)
    await expect(hits.get_by_role("button", name=f"مادة Map of {word}")).to_be_visible()
    await check_screen(pupil, "37-search-documents-ar-375")
    async with pupil.expect_response(lambda response: response.url.endswith("/read")):
        await hits.get_by_role("link", name=f"مستند Diary {word}").click()
    await expect(pupil.get_by_role("heading", name=f"Diary {word}")).to_be_visible()
    await open_room(pupil, site, "activity")
    await expect(
        news.get_by_role("link", name="Where is the Limfjord?: مشاركة جديدة واحدة")
    ).to_be_visible()
    await expect(news.get_by_role("link", name=f"Diary {word}")).to_have_count(0)
    await expect(news.get_by_role("button", name=f"Map of {word}")).to_have_count(0)
    await context.close()

    context = await new_context(browser, site, locale="da-DK")
    teacher = await context.new_page()
    await teacher.set_viewport_size({"width": 1366, "height": 768})
    await sign_in(teacher, *site.teacher)
    await open_room(teacher, site, "search")
    await teacher.get_by_label("Søg i hele projektet").fill(word.upper())
    await teacher.get_by_role("button", name="Søg", exact=True).click()
    hits = teacher.locator(".search-hits li")
    await expect(hits.get_by_role("link", name=f"Dokument Diary {word}")).to_be_visible()
    opener = hits.get_by_role("button", name=f"Materiale Map of {word}")
    await expect(opener.locator("xpath=..").locator("mark").first).to_have_text(word)
    await check_screen(teacher, "38-search-materials-da-1366")
    async with teacher.expect_popup() as popup:
        await opener.click()
    shown = await popup.value
    assert f"/materials/{material['material_id']}/display?" in shown.url, shown.url
    await context.close()
