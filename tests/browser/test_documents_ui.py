"""The Documents screen in Debian's Chromium against the real server: a teacher and a pupil
co-write one document through the stock y-websocket provider, then go offline, restore a
version, and an observer reads. The tests share one server and run in order."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import Site, check_screen, new_context, sign_in, unique_text

TITLE = "River diary"


async def open_document(page: Page, site: Site) -> None:
    """From the room's navigation to the document, synced with the server."""
    await page.goto(f"/#/p/{site.project_id}/chat/general")
    await page.locator(".room-nav").get_by_role("link", name="Documents").click()
    await page.get_by_role("link", name=TITLE).click()
    await expect(page.locator(".doc-link.link-synced")).to_be_visible()


async def write_at_end(page: Page, text: str) -> None:
    """A new last paragraph. ProseMirror reads the caret on `selectionchange`, a task of its
    own: one frame lets it see where End put the caret before Enter splits there."""
    await page.locator(".doc-body > :last-child").click()
    await page.keyboard.press("Control+End")
    await page.evaluate("new Promise(done => requestAnimationFrame(() => setTimeout(done)))")
    await page.keyboard.press("Enter")
    await page.keyboard.type(text)


async def rest_text(site: Site, page: Page) -> str:
    doc_id = page.url.rsplit("/", 1)[1]
    response = await site.live.http.get(
        f"/api/projects/{site.project_id}/docs/{doc_id}/content",
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    assert response.status_code == 200, response.text
    return response.text


async def test_teacher_and_pupil_write_together_and_see_each_other(
    teacher: Page, pupil: Page, site: Site
) -> None:
    await teacher.goto(f"/#/p/{site.project_id}/documents")
    await expect(teacher.get_by_text("No documents yet.")).to_be_visible()
    await teacher.get_by_label("Title of the new document").fill(TITLE)
    await teacher.get_by_role("button", name="Create document").click()
    await expect(teacher.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    await expect(teacher.locator(".doc-link.link-synced")).to_be_visible()
    await open_document(pupil, site)

    hello = unique_text("Our river starts in the hills")
    await teacher.locator(".doc-body").click()
    await teacher.keyboard.type(hello)
    await expect(pupil.locator(".doc-body")).to_contain_text(hello)
    answer = unique_text("It passes our school")
    await write_at_end(pupil, answer)
    await expect(teacher.locator(".doc-body")).to_contain_text(answer)
    assert (await rest_text(site, teacher)).split("\n") == [hello, answer]

    # Each sees the other's caret with a name, and who is in the document.
    await expect(teacher.locator(".ProseMirror-yjs-cursor")).to_have_text(site.pupil[2])
    await expect(pupil.locator(".ProseMirror-yjs-cursor")).to_have_text("Ana")
    await expect(pupil.locator(".doc-people")).to_contain_text("Ana")
    # Formatting by keyboard reaches the other side as a mark.
    await teacher.keyboard.press("Control+b")
    await teacher.keyboard.type(" bold")
    await expect(pupil.locator(".doc-body strong")).to_have_text(" bold")
    bold = teacher.get_by_role("button", name="Bold")
    await expect(bold).to_have_attribute("aria-pressed", "true")
    # The toolbar is one tab stop; arrows move inside it; a tool returns the focus to the text.
    await bold.focus()
    await teacher.keyboard.press("ArrowRight")
    await expect(teacher.get_by_role("button", name="Italic")).to_be_focused()
    await teacher.keyboard.press("Enter")
    await expect(teacher.locator(".doc-body")).to_be_focused()
    await teacher.keyboard.type(" slanted")
    await expect(pupil.locator(".doc-body em")).to_have_text(" slanted")
    await check_screen(teacher, "20-document-teacher")
    await check_screen(pupil, "21-document-pupil")


async def test_offline_edits_merge_when_the_pupil_comes_back(
    teacher: Page, pupil: Page, site: Site
) -> None:
    await pupil.context.set_offline(True)
    await expect(pupil.locator(".doc-link.link-offline")).to_be_visible()
    offline = unique_text("Written on the bus")
    await write_at_end(pupil, offline)
    await expect(pupil.locator(".doc-link")).to_have_text(
        "Offline: your changes are kept here and sent when the connection is back."
    )
    online = unique_text("Meanwhile in class")
    await write_at_end(teacher, online)
    await check_screen(pupil, "22-document-offline")

    await pupil.context.set_offline(False)
    await expect(pupil.locator(".doc-link.link-synced")).to_be_visible()
    await expect(pupil.locator(".doc-body")).to_contain_text(online)
    await expect(teacher.locator(".doc-body")).to_contain_text(offline)
    # Both are stored on the server, each once.
    text = await rest_text(site, teacher)
    assert text.count(offline) == 1 and text.count(online) == 1, text


async def test_teacher_saves_and_restores_a_version_the_pupil_follows(
    teacher: Page, pupil: Page, site: Site
) -> None:
    await teacher.get_by_label("Name of the version").fill("First draft")
    await teacher.get_by_role("button", name="Save a version").click()
    await expect(teacher.locator(".version", has_text="First draft")).to_be_visible()
    later = unique_text("A sentence we regret")
    await write_at_end(teacher, later)
    await expect(pupil.locator(".doc-body")).to_contain_text(later)

    await teacher.get_by_role("button", name="View First draft").click()
    preview = teacher.locator(".version-preview .doc-body")
    await expect(preview).not_to_contain_text(later)
    await expect(preview).to_contain_text("Our river starts in the hills")
    await check_screen(teacher, "23-document-version")
    await teacher.get_by_role("button", name="Restore this version").click()
    await teacher.get_by_role("dialog").get_by_role("button", name="Restore this version").click()
    await expect(teacher.get_by_text("Version “First draft” restored.")).to_be_visible()
    # The restore is a forward update: the pupil's open editor converges to it.
    await expect(pupil.locator(".doc-body")).not_to_contain_text(later)
    await expect(pupil.locator(".doc-body")).to_contain_text("Our river starts in the hills")
    restored = await rest_text(site, teacher)
    assert later not in restored
    doc_id = teacher.url.rsplit("/", 1)[1]
    auth = {"Authorization": f"Bearer {site.teacher_token}"}
    docs = f"/api/projects/{site.project_id}/docs/{doc_id}"
    listed = (await site.live.http.get(f"{docs}/versions", headers=auth)).json()["versions"]
    draft = next(v for v in listed if v["name"] == "First draft")
    saved = await site.live.http.get(f"{docs}/versions/{draft['id']}/content", headers=auth)
    assert restored == saved.text
    # Pupils neither manage documents nor see versions.
    await expect(pupil.locator(".versions")).to_have_count(0)


async def test_archiving_turns_the_open_editor_read_only_live(
    teacher: Page, pupil: Page, site: Site
) -> None:
    async def set_status(status: str) -> None:
        response = await site.live.http.patch(
            f"/api/projects/{site.project_id}",
            json={"status": status},
            headers={"Authorization": f"Bearer {site.teacher_token}"},
        )
        assert response.status_code == 200, response.text

    body = pupil.locator(".doc-body")
    await set_status("archived")
    await expect(body).to_have_attribute("contenteditable", "false")
    await expect(pupil.locator(".readonly-note")).to_contain_text("archived")
    await expect(pupil.locator(".doc-toolbar")).to_have_count(0)
    await set_status("active")
    await expect(body).to_have_attribute("contenteditable", "true")
    # The provider reconnected with write access: an edit reaches the teacher again.
    await expect(pupil.locator(".doc-link.link-synced")).to_be_visible()
    again = unique_text("Back to work")
    await write_at_end(pupil, again)
    await expect(teacher.locator(".doc-body")).to_contain_text(again)


async def test_the_editor_follows_a_change_of_language(teacher: Page, site: Site) -> None:
    await teacher.get_by_label("Language").select_option("ar")
    await expect(teacher.locator("html")).to_have_attribute("dir", "rtl")
    await expect(teacher.locator(".doc-link")).to_have_text("محفوظ: الجميع يرون تغييراتك.")
    await expect(teacher.locator(".doc-body")).to_contain_text("Our river starts in the hills")
    await check_screen(teacher, "25-document-arabic")
    await teacher.get_by_label("اللغة").select_option("en")
    await expect(teacher.locator(".doc-link.link-synced")).to_be_visible()


async def test_teacher_renames_and_deletes_a_document_the_pupil_has_open(
    teacher: Page, pupil: Page, site: Site
) -> None:
    await teacher.goto(f"/#/p/{site.project_id}/documents")
    await teacher.get_by_label("Title of the new document").fill("Scratch")
    await teacher.get_by_role("button", name="Create document").click()
    await expect(teacher.locator(".doc-link.link-synced")).to_be_visible()
    await teacher.get_by_role("link", name="All documents").click()
    await teacher.get_by_role("button", name="Rename Scratch").click()
    await teacher.get_by_role("dialog").locator("textarea").fill("Scratch notes")
    await teacher.get_by_role("dialog").get_by_role("button", name="Save").click()
    await expect(teacher.get_by_role("link", name="Scratch notes")).to_be_visible()
    await check_screen(teacher, "26-documents-list")

    await pupil.goto(f"/#/p/{site.project_id}/documents")
    await expect(pupil.get_by_role("button", name="Rename Scratch notes")).to_have_count(0)
    await pupil.get_by_role("link", name="Scratch notes").click()
    await expect(pupil.locator(".doc-link.link-synced")).to_be_visible()
    await teacher.get_by_role("button", name="Delete Scratch notes").click()
    await teacher.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(teacher.get_by_role("link", name="Scratch notes")).to_have_count(0)
    await expect(pupil.get_by_role("alert")).to_have_text("This document was deleted.")


async def test_an_observer_reads_the_document_but_cannot_change_it(
    browser: Browser, site: Site
) -> None:
    context = await new_context(browser, site, locale="it-IT")
    page = await context.new_page()
    await sign_in(page, *site.observer)
    await page.goto(f"/#/p/{site.project_id}/documents")
    await page.get_by_role("link", name=TITLE).click()
    body = page.locator(".doc-body")
    await expect(body).to_contain_text("Our river starts in the hills")
    await expect(body).to_have_attribute("contenteditable", "false")
    await expect(page.locator(".readonly-note")).to_have_text(
        "Puoi leggere questo documento, ma non modificarlo."
    )
    await expect(page.locator(".doc-toolbar")).to_have_count(0)
    before = await body.inner_text()
    await body.click()
    await page.keyboard.type("nope")
    assert await body.inner_text() == before
    await check_screen(page, "24-document-observer-italian")
    await context.close()
