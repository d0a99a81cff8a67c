"""The web client in Debian's Chromium against the real server: a teacher and a pupil.

The tests of this module share one server, one browser and the two people's pages, and run in
order: sign-in, chat both ways, a dropped connection, teacher admin, read-only, Arabic.
"""

from __future__ import annotations

import re

from playwright.async_api import Browser, Locator, Page, expect

from tests.browser.conftest import (
    Site,
    check_screen,
    exact,
    new_context,
    sign_in,
    unique_text,
)
from tests.support.live import HubClient


async def open_channel(page: Page, site: Site, channel: str) -> None:
    await page.goto(f"/#/p/{site.project_id}/chat/{channel}")
    await expect(page.locator(".composer textarea, .readonly-note")).to_be_visible()
    await expect(page.locator(".banner.link-connecting, .banner.link-offline")).to_have_count(0)


async def say(page: Page, text: str) -> None:
    box = page.locator(".composer textarea")
    await box.fill(text)
    await box.press("Enter")


def messages(page: Page, text: str) -> Locator:
    """The delivered messages whose text is exactly `text`."""
    return page.locator(".message:not(.pending) .text", has_text=exact(text))


def message(page: Page, text: str) -> Locator:
    """The one message item whose own text (not a quote of it) is `text`."""
    return page.locator(".message").filter(has=page.locator(".text", has_text=exact(text)))


async def act(item: Locator, name: str) -> None:
    """A message's action, behind its one menu button."""
    menu = item.locator(".message-menu")
    if await menu.get_attribute("open") is None:
        await menu.locator("summary").click()
    await item.get_by_role("button", name=name, exact=True).click()


async def test_sign_in_by_keyboard_alone_refuses_a_wrong_password(
    browser: Browser, site: Site
) -> None:
    context = await new_context(browser, site)
    page = await context.new_page()
    await page.goto("/")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    # The username field has the focus; Tab, type and Enter do the rest.
    await expect(page.get_by_label("Username")).to_be_focused()
    await page.keyboard.type("ana")
    await page.keyboard.press("Tab")
    await expect(page.get_by_label("Password")).to_be_focused()
    await page.keyboard.type("not the password")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("alert")).to_have_text("That username or password is not right.")
    assert await page.evaluate("sessionStorage.length") == 0
    await check_screen(page, "01-sign-in")
    await context.close()


async def test_my_projects_lists_the_room(teacher: Page, site: Site) -> None:
    await teacher.goto("/#/projects")
    await expect(teacher.get_by_role("link", name="Water Stories")).to_be_visible()
    # The token lives in sessionStorage only.
    assert await teacher.evaluate("localStorage.getItem('twinspace.session')") is None
    assert await teacher.evaluate("sessionStorage.getItem('twinspace.session') !== null")
    await check_screen(teacher, "02-my-projects")


async def test_teacher_and_pupil_chat_both_ways(teacher: Page, pupil: Page, site: Site) -> None:
    await open_channel(teacher, site, "general")
    await open_channel(pupil, site, "general")
    # Presence: each sees the other, in the General channel.
    await expect(teacher.locator(".presence .person", has_text=site.pupil[2])).to_contain_text(
        "in General"
    )
    await expect(pupil.locator(".presence .person", has_text="Ana")).to_be_visible()

    hello = unique_text("Hello from Lisbon")
    await say(teacher, hello)
    await expect(messages(pupil, hello)).to_have_count(1)
    # Screen readers hear it once, in the pupil's language.
    await expect(pupil.locator("[aria-live=polite].visually-hidden")).to_have_text(
        f"New message from Ana: {hello}"
    )

    await pupil.locator(".composer textarea").press_sequentially("Hi")
    await expect(teacher.locator(".typing")).to_contain_text(site.pupil[2])
    answer = unique_text("Our river is the Tagus")
    await say(pupil, answer)
    await expect(messages(teacher, answer)).to_have_count(1)

    # Reply, react, edit and delete, each seen live by the other side.
    answered = message(teacher, answer)
    await act(answered, "Answer")
    reply = unique_text("Great")
    await say(teacher, reply)
    await expect(message(pupil, reply).locator(".reply-quote")).to_contain_text(answer)
    await act(answered, "React with 👍")
    await expect(message(pupil, answer).locator(".reaction")).to_have_text("👍 1")
    # By keyboard: the pupil adds theirs; the redrawn message keeps the focus on that button.
    await message(pupil, answer).locator(".reaction").focus()
    await pupil.keyboard.press("Enter")
    await expect(message(teacher, answer).locator(".reaction")).to_have_text("👍 2")
    await expect(message(pupil, answer).locator(".reaction")).to_be_focused()

    mine = message(teacher, hello)
    await act(mine, "Change")
    dialog = teacher.get_by_role("dialog")
    await check_screen(teacher, "03-dialog-edit")
    await dialog.locator("textarea").fill(hello + " (edited)")
    await dialog.get_by_role("button", name="Save").click()
    await expect(message(pupil, hello + " (edited)")).to_contain_text("(changed)")

    await act(message(teacher, reply), "Delete")
    await teacher.get_by_role("dialog").get_by_role("button", name="Delete").click()
    await expect(pupil.locator(".message.deleted")).to_have_count(1)

    # Report: the pupil tells the teachers about a message.
    await act(message(pupil, hello + " (edited)"), "Report")
    await pupil.get_by_role("dialog").locator("textarea").fill("I do not like it")
    await pupil.get_by_role("dialog").get_by_role("button", name="Send to the teachers").click()
    await expect(pupil.get_by_role("status")).to_have_text(
        "Thank you. The teachers will look at it."
    )
    await check_screen(teacher, "03-room-chat")
    await check_screen(pupil, "04-room-chat-pupil")


async def test_unread_badge_counts_messages_in_another_channel(
    teacher: Page, pupil: Page, site: Site
) -> None:
    await open_channel(pupil, site, "pupils")
    await say(teacher, unique_text("While you are away"))
    await say(teacher, unique_text("And again"))
    badge = pupil.locator(".room-nav a", has_text="General").locator(".badge")
    await expect(badge).to_have_text(re.compile(r"^2 unread messages$"))
    await pupil.locator(".room-nav a", has_text="General").click()
    await expect(badge).to_have_count(0)


async def test_dropped_connection_resumes_without_loss_or_duplicates(
    teacher: Page, pupil: Page, site: Site
) -> None:
    await open_channel(pupil, site, "general")
    await open_channel(teacher, site, "general")
    await pupil.context.set_offline(True)
    await expect(pupil.locator(".banner.link-offline")).to_be_visible()

    missed = [unique_text(f"Missed {n}") for n in range(3)]
    for text in missed:
        await say(teacher, text)
        await expect(messages(teacher, text)).to_have_count(1)
    offline_text = unique_text("Written offline")
    await say(pupil, offline_text)
    await expect(pupil.locator(".message.pending", has_text=offline_text)).to_be_visible()
    await check_screen(pupil, "05-room-offline")

    await pupil.context.set_offline(False)
    await expect(pupil.locator(".banner.link-offline")).to_have_count(0)
    for text in missed:
        await expect(messages(pupil, text)).to_have_count(1)
    await expect(messages(pupil, offline_text)).to_have_count(1)
    await expect(pupil.locator(".message.pending")).to_have_count(0)
    await expect(messages(teacher, offline_text)).to_have_count(1)
    # Every message once, in order.
    texts = await pupil.locator(".message:not(.pending) .text").all_text_contents()
    assert len(texts) == len(set(texts)), texts
    assert [texts.index(t) for t in missed] == sorted(texts.index(t) for t in missed)


async def test_teacher_creates_pupils_in_bulk_and_gets_a_sheet(teacher: Page, site: Site) -> None:
    await teacher.goto(f"/#/p/{site.project_id}/admin")
    await expect(teacher.get_by_role("heading", name="Members and pupils", level=1)).to_be_visible()
    await check_screen(teacher, "06-admin")
    await teacher.get_by_label("Pupils' names").fill("Jens Ørsted\nÇağla Öztürk\nZofia Wiśniewska")
    await teacher.get_by_role("button", name="Create accounts").click()
    cards = teacher.locator(".sheet .login-card")
    await expect(cards).to_have_count(3)
    await expect(cards.nth(1)).to_contain_text("Çağla Öztürk")
    password = re.compile(r"[a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4}")
    for n in range(3):
        await expect(cards.nth(n).locator(".mono").nth(1)).to_have_text(password)
    await expect(teacher.locator("tbody th", has_text="Jens Ørsted")).to_be_visible()
    await check_screen(teacher, "07-admin-sheet")
    await teacher.emulate_media(media="print")
    await teacher.screenshot(path="test-artifacts/08-sheet-print.png", full_page=True)
    assert not await teacher.locator(".room-nav").is_visible()
    await teacher.emulate_media(media="screen")

    await teacher.get_by_label("Role of Zofia Wiśniewska").select_option("pupil_admin")
    await expect(teacher.get_by_label("Role of Zofia Wiśniewska")).to_have_value("pupil_admin")

    # A pupil forgot: a new one-time password, on a sheet of one.
    row = teacher.locator("tr", has_text="Jens Ørsted")
    await row.get_by_role("button", name="New password").click()
    await teacher.get_by_role("dialog").get_by_role("button", name="New password").click()
    await expect(cards).to_have_count(1)
    await expect(cards.first).to_contain_text("Jens Ørsted")

    await teacher.goto(f"/#/p/{site.project_id}/audit")
    entries = teacher.locator("tbody td")
    await expect(entries.filter(has_text="Ana created an account for")).to_have_count(4)
    await expect(entries.filter(has_text="Ana gave Jens Ørsted a new password.")).to_have_count(1)
    role = "Ana changed Zofia Wiśniewska's role from Pupil to Pupil administrator."
    await expect(entries.filter(has_text=role)).to_have_count(1)
    await check_screen(teacher, "09-audit")


async def test_archived_room_is_read_only_live(teacher: Page, pupil: Page, site: Site) -> None:
    await open_channel(pupil, site, "general")
    await teacher.goto(f"/#/p/{site.project_id}/admin")
    await teacher.get_by_role("button", name="Archive the project").click()
    await teacher.get_by_role("dialog").get_by_role("button", name="Archive the project").click()
    await expect(teacher.get_by_role("button", name="Reopen the project")).to_be_visible()
    # The pupil's open room turns read-only through `room.changed`, without a reload.
    await expect(pupil.locator(".banner.readonly")).to_contain_text("archived")
    await expect(pupil.locator(".composer")).to_have_count(0)
    await expect(pupil.locator(".message-menu button", has_text="Answer")).to_have_count(0)
    await check_screen(pupil, "10-room-archived")

    await teacher.get_by_role("button", name="Reopen the project").click()
    await teacher.get_by_role("dialog").get_by_role("button", name="Reopen the project").click()
    await expect(pupil.locator(".composer textarea")).to_be_visible()
    await expect(pupil.locator(".banner.readonly")).to_have_count(0)


async def test_arabic_renders_right_to_left(browser: Browser, site: Site) -> None:
    context = await new_context(browser, site, locale="ar-EG")
    page = await context.new_page()
    await page.goto("/")
    html = page.locator("html")
    await expect(html).to_have_attribute("dir", "rtl")
    await expect(html).to_have_attribute("lang", "ar")
    await expect(page.get_by_role("heading", level=1)).to_have_text("تسجيل الدخول")
    await check_screen(page, "11-sign-in-arabic")
    await sign_in(page, *site.teacher)
    await open_channel(page, site, "general")
    nav = await page.locator(".room-nav").bounding_box()
    side = await page.locator("aside.presence").bounding_box()
    assert nav and side and nav["x"] > side["x"], "the navigation sits on the right in Arabic"
    await check_screen(page, "12-room-arabic")
    # The picker switches language and direction at once, and keeps the choice.
    await page.get_by_label("اللغة").select_option("tr")
    await expect(html).to_have_attribute("dir", "ltr")
    await expect(page.locator(".room-nav")).to_contain_text("Sohbet kanalları")
    # Signing out forgets the token and leaves the room.
    await page.get_by_role("button", name="Çıkış yap").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Giriş yap")
    assert await page.evaluate("sessionStorage.getItem('twinspace.session')") is None
    await context.close()


async def test_older_messages_load_when_scrolling_back(teacher: Page, site: Site) -> None:
    made = await site.live.http.post(
        f"/api/projects/{site.project_id}/channels",
        json={"name": "history", "title": "History", "rule": "all"},
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    assert made.status_code == 201, made.text
    hub = await HubClient.connect(site.live.url, site.project_id, site.teacher_token)
    for n in range(70):
        await hub.ok("chat.send", channel="history", text=f"Line {n}", key=f"history-{n}")
    await hub.close()
    await open_channel(teacher, site, "history")
    await expect(teacher.locator(".message")).to_have_count(50)
    await expect(messages(teacher, "Line 69")).to_have_count(1)
    await teacher.locator(".scroller").evaluate("el => { el.scrollTop = 0; }")
    await expect(teacher.locator(".message")).to_have_count(70)
    await expect(messages(teacher, "Line 0")).to_have_count(1)
    await expect(teacher.get_by_role("button", name="Show older messages")).to_be_hidden()


async def test_an_observer_reads_but_cannot_write(browser: Browser, site: Site) -> None:
    context = await new_context(browser, site, locale="da-DK")
    page = await context.new_page()
    await sign_in(page, *site.observer)
    await open_channel(page, site, "general")
    await expect(page.locator(".banner.readonly")).to_have_text(
        "Du er her for at kigge med: du kan læse, men du kan ikke skrive."
    )
    await expect(page.locator(".composer")).to_have_count(0)
    await expect(page.locator(".message").first).to_be_visible()
    await check_screen(page, "13-room-observer-danish")
    await context.close()
