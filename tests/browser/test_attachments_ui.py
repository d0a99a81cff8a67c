"""Materials attached to chat messages and forum replies (issue 15) in Chromium against the real
server: the teacher attaches a photo from the keyboard with the "Attach materials" picker, the
pupil sees it live; once the teacher removes the photo, the pupil's page shows "unavailable" in
its place, never a broken image."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import Site, check_screen, unique_text
from tests.browser.test_pages_ui import _loaded, add_photo
from tests.browser.test_web_client import message, open_channel
from tests.support.waiting import eventually_async

PHOTO = "River photos · heron.jpg"


async def attach_from_the_keyboard(page: Page, form: Locator) -> None:
    await form.get_by_text("Attach materials").focus()
    await page.keyboard.press("Enter")
    await form.get_by_label(PHOTO).focus()
    await page.keyboard.press("Space")
    await expect(form.get_by_label(PHOTO)).to_be_checked()


async def api(site: Site, method: str, path: str, body: Any = None) -> Any:
    headers = {"Authorization": f"Bearer {site.teacher_token}"}
    sent = await site.live.http.request(
        method, f"/api/projects/{site.project_id}{path}", json=body, headers=headers
    )
    assert sent.status_code in (200, 201, 204), sent.text
    return sent.json() if sent.content else None


async def test_a_photo_attached_to_a_message_and_a_reply_reaches_the_pupil(
    teacher: Page, pupil: Page, site: Site
) -> None:
    photo = await add_photo(site)

    # Chat: the photo goes with the message; Enter in the box sends both.
    await open_channel(teacher, site, "general")
    await open_channel(pupil, site, "general")
    await attach_from_the_keyboard(teacher, teacher.locator(".composer"))
    text = unique_text("The heron came back")
    box = teacher.locator(".composer textarea")
    await box.focus()
    await teacher.keyboard.type(text)
    await teacher.keyboard.press("Enter")
    seen = message(pupil, text).locator(".attached-materials img[alt='heron.jpg']")
    await expect(seen).to_be_visible()
    await eventually_async(lambda: _loaded(seen))
    await expect(teacher.locator(".composer").get_by_label(PHOTO)).not_to_be_checked()
    await check_screen(pupil, "79-chat-attachment-pupil")

    # Forums: a reply with the photo, from the keyboard too.
    forum = await api(site, "POST", "/forums", {"title": "Birds"})
    thread = await api(
        site, "POST", f"/forums/{forum['id']}/threads", {"title": "Herons", "body": "Seen any?"}
    )
    view = f"/#/p/{site.project_id}/forums/t{thread['thread']['id']}"
    await pupil.goto(view)
    await teacher.goto(view)
    form = teacher.locator("form.board-form")
    reply = unique_text("One by the bridge")
    await form.get_by_label("Your reply").fill(reply)
    await attach_from_the_keyboard(teacher, form)
    await form.get_by_role("button", name="Post the reply").focus()
    await teacher.keyboard.press("Enter")
    post = pupil.locator(".post", has_text=reply)
    shown = post.locator(".attached-materials img[alt='heron.jpg']")
    await expect(shown).to_be_visible()
    await eventually_async(lambda: _loaded(shown))
    await check_screen(pupil, "80-forum-attachment-pupil")

    # The photo removed: its place says so, on the next look at the thread.
    await api(site, "DELETE", f"/materials/{photo}")
    await pupil.reload()
    await expect(post.locator(".attached-materials .attach-unavailable")).to_have_text(
        "This material is no longer available."
    )
    await expect(post.locator(".attached-materials img")).to_have_count(0)
