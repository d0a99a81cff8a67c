"""Chat moderation, phones and keyboards as a class meets them (issue 17), in Debian's
Chromium against the real server: mute from the interface and the muted pupil's message, the
reports inbox, the message box on the first screen at phone and laptop sizes, and a message
sent by keyboard alone."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import Site, check_screen, new_context, sign_in, unique_text
from tests.browser.test_web_client import act, message, messages, open_channel, say
from tests.support.live import HubClient


async def test_a_teacher_mutes_a_pupil_who_is_told_until_when(
    teacher: Page, pupil: Page, site: Site
) -> None:
    await open_channel(teacher, site, "general")
    await open_channel(pupil, site, "general")
    before = unique_text("Before the pause")
    await say(pupil, before)
    await expect(messages(teacher, before)).to_have_count(1)
    await act(message(teacher, before), "1 hour")
    await expect(teacher.locator(".composer-area [role=status]")).to_contain_text(
        f"{site.pupil[2]}'s messages are paused until"
    )
    # The pupil is told at once, before writing anything (a `chat.paused` push).
    told = pupil.locator(".paused-note")
    await expect(told).to_have_text(re.compile(r"^A teacher has paused your messages until .+\.$"))
    paused = unique_text("During the pause")
    await say(pupil, paused)
    note = pupil.locator(".message.failed .muted-note")
    await expect(note).to_have_text(re.compile(r"^A teacher has paused your messages until .+\.$"))
    await check_screen(pupil, "44-muted-pupil")
    # The teacher lets the pupil write again from the list of who is here.
    person = teacher.locator(".presence .person", has_text=site.pupil[2])
    await person.locator("summary").click()
    await person.get_by_role("button", name="Let them write again").click()
    await expect(teacher.locator(".presence [role=status]")).to_have_text(
        f"{site.pupil[2]} can write again."
    )
    await expect(told).to_have_text("A teacher let you write again.")
    after = unique_text("After the pause")
    await say(pupil, after)
    await expect(messages(teacher, after)).to_have_count(1)


async def test_a_report_reaches_the_teachers_inbox_live(
    teacher: Page, pupil: Page, site: Site
) -> None:
    await open_channel(teacher, site, "general")
    await open_channel(pupil, site, "general")
    unkind = unique_text("Unkind words")
    await say(teacher, unkind)
    await expect(messages(pupil, unkind)).to_have_count(1)
    await act(message(pupil, unkind), "Report")
    await pupil.get_by_role("dialog").locator("textarea").fill("This hurts")
    await pupil.get_by_role("dialog").get_by_role("button", name="Send to the teachers").click()
    alert = teacher.locator(".banner.report-alert")
    await expect(alert).to_contain_text(f"New report from {site.pupil[2]} in #General.")
    await expect(teacher.get_by_role("link", name=re.compile(r"^Reports 1"))).to_be_visible()
    await alert.get_by_role("link", name="Open the reports inbox").click()
    await expect(teacher.get_by_role("heading", name="Reports inbox")).to_be_visible()
    report = teacher.locator(".report", has_text=unkind)
    await expect(report).to_contain_text(f"{site.pupil[2]} reported: This hurts")
    await check_screen(teacher, "45-reports-inbox")
    await report.get_by_role("button", name="Delete message").click()
    await expect(teacher.locator(".report-list.decided .report").first).to_contain_text(
        "Message deleted by Ana"
    )
    await expect(teacher.locator(".reports [role=status]")).to_have_text("No open reports.")
    await expect(pupil.locator(".message.deleted")).not_to_have_count(0)
    await expect(messages(pupil, unkind)).to_have_count(0)


@pytest.mark.parametrize(("width", "height"), [(375, 667), (1366, 768)])
async def test_the_message_box_is_on_the_first_screen(
    browser: Browser, site: Site, width: int, height: int
) -> None:
    context = await new_context(browser, site)
    page = await context.new_page()
    await page.set_viewport_size({"width": width, "height": height})
    await sign_in(page, *site.teacher)
    # A channel of fourteen messages and more: the box must not sink below the screen.
    hub = await HubClient.connect(site.live.url, site.project_id, site.teacher_token)
    try:
        for n in range(14):
            await hub.ok(
                "chat.send", channel="general", text=f"Line {n} " * 8, key=unique_text("k")
            )
    finally:
        await hub.close()
    await open_channel(page, site, "general")
    box = page.locator(".composer textarea")
    await expect(box).to_be_focused()
    await page.screenshot(path=f"test-artifacts/debug-{width}.png")
    assert await page.evaluate("window.scrollY") == 0
    bounds = await box.bounding_box()
    assert bounds is not None
    assert bounds["y"] >= 0 and bounds["y"] + bounds["height"] <= height, bounds
    send = page.locator(".composer button[type=submit]")
    send_bounds = await send.bounding_box()
    assert send_bounds is not None and send_bounds["y"] + send_bounds["height"] <= height
    toggle = page.get_by_role("button", name="Room menu")
    if width < 640:
        await expect(page.locator(".room-nav")).to_be_hidden()
        await toggle.click()
        await expect(toggle).to_have_attribute("aria-expanded", "true")
        await expect(page.locator(".room-nav")).to_be_visible()
        await check_screen(page, "46-phone-menu")
        await page.locator(".room-nav").get_by_role("link", name="General").click()
        await expect(page.locator(".room-nav")).to_be_hidden()
    else:
        await expect(toggle).to_be_hidden()
        await expect(page.locator(".room-nav")).to_be_visible()
    await check_screen(page, f"47-chat-{width}x{height}")
    await context.close()


async def test_a_message_sent_by_keyboard_alone(browser: Browser, site: Site) -> None:
    context = await new_context(browser, site)
    page = await context.new_page()
    await sign_in(page, *site.teacher)
    await open_channel(page, site, "general")
    # The box has the focus as the channel opens: type and Enter.
    text = unique_text("Typed without a mouse")
    await page.keyboard.type(text)
    await page.keyboard.press("Enter")
    await expect(messages(page, text)).to_have_count(1)
    # The page's first Tab stops are the skip links, to the content and to the box.
    await page.get_by_role("link", name="TwinSpace").focus()
    await page.keyboard.press("Shift+Tab")
    await expect(page.get_by_role("link", name="Skip to the message box")).to_be_focused()
    await page.keyboard.press("Shift+Tab")
    await expect(page.get_by_role("link", name="Skip to the main content")).to_be_focused()
    await page.keyboard.press("Tab")
    await expect(page.get_by_role("link", name="Skip to the message box")).to_be_focused()
    await page.keyboard.press("Enter")
    await expect(page.locator(".composer textarea")).to_be_focused()
    again = unique_text("Second by keyboard")
    await page.keyboard.type(again)
    await page.keyboard.press("Enter")
    await expect(messages(page, again)).to_have_count(1)
    # A message's actions are one Tab stop: the menu button, then the next message's.
    menus = page.locator(".message .message-menu > summary")
    await menus.last.focus()
    await page.keyboard.press("Enter")
    await expect(page.locator(".message-menu[open]")).to_have_count(1)
    await page.keyboard.press("Escape")
    await expect(page.locator(".message-menu[open]")).to_have_count(0)
    await expect(menus.last).to_be_focused()
    await context.close()


@pytest.mark.parametrize(
    ("locale", "titles"),
    [
        ("ar-EG", ["عام", "غرفة المعلمين", "التلاميذ"]),
        ("da-DK", ["Generelt", "Lærerværelset", "Elever"]),
    ],
)
async def test_default_channels_in_the_readers_language(
    browser: Browser, site: Site, locale: str, titles: list[str]
) -> None:
    """The default channels are translated; a channel a teacher named keeps its name."""
    name = f"club-{locale[:2]}"
    club = f"Book Club {locale[:2]}"
    made = await site.live.http.post(
        f"/api/projects/{site.project_id}/channels",
        json={"name": name, "title": club, "rule": "all"},
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    assert made.status_code == 201, made.text
    context = await new_context(browser, site, locale=locale)
    page = await context.new_page()
    await page.set_viewport_size({"width": 375, "height": 667})
    await sign_in(page, *site.teacher)
    await open_channel(page, site, "general")
    await expect(page.locator(".channel-title bdi")).to_have_text(titles[0])
    channels = page.locator(".room-nav .channel-name bdi")
    await expect(channels.first).to_have_text(titles[0])
    for title in [*titles, club]:
        await expect(channels.filter(has_text=title)).to_have_count(1)
    await page.locator(".menu-toggle").click()
    await check_screen(page, f"48-phone-menu-{locale[:2]}")
    await context.close()


async def test_a_teacher_steps_into_the_pupils_channel_marked_as_staff(
    teacher: Page, pupil: Page, site: Site
) -> None:
    await open_channel(teacher, site, "pupils")
    await open_channel(pupil, site, "pupils")
    own = unique_text("Can we share the river photos?")
    await say(pupil, own)
    await expect(messages(teacher, own)).to_have_count(1)
    step_in = unique_text("Yes, in the Materials album please")
    await say(teacher, step_in)
    seen = message(pupil, step_in)
    await expect(seen).to_have_count(1)
    await expect(seen.locator(".staff-mark")).to_have_text("Teacher")
    await expect(message(pupil, own).locator(".staff-mark")).to_have_count(0)
    await check_screen(pupil, "49-pupils-channel-staff-mark")


@pytest.mark.parametrize(
    ("locale", "width", "height", "mark", "told"),
    [
        ("en-GB", 1366, 768, "Teacher", "This channel is for teachers."),
        ("ar-EG", 375, 667, "معلّم", "هذه القناة مخصّصة للمعلّمين."),
    ],
)
async def test_a_pupil_who_opens_the_teachers_room_by_address_is_told_why(
    browser: Browser, site: Site, locale: str, width: int, height: int, mark: str, told: str
) -> None:
    secret = unique_text("Parents' evening moved to Thursday")
    hub = await HubClient.connect(site.live.url, site.project_id, site.teacher_token)
    try:
        await hub.ok("chat.send", channel="teachers", text=secret, key=unique_text("k"))
        await hub.ok("chat.send", channel="pupils", text=unique_text("Well done"), key="k")
    finally:
        await hub.close()
    context = await new_context(browser, site, locale=locale)
    page = await context.new_page()
    await page.set_viewport_size({"width": width, "height": height})
    await sign_in(page, site.pupil[0], site.pupil[1])
    await open_channel(page, site, "pupils")
    await expect(page.locator(".message .staff-mark").last).to_have_text(mark)
    await check_screen(page, f"50-pupils-channel-{locale[:2]}-{width}")
    await open_channel(page, site, "teachers")
    await expect(page.locator(".channel-closed")).to_have_text(told)
    await expect(page.locator(".composer textarea")).to_have_count(0)
    await expect(page.get_by_text(secret)).to_have_count(0)
    await check_screen(page, f"51-teachers-room-refused-{locale[:2]}-{width}")
    await context.close()
