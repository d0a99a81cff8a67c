"""The video page in Chromium with its fake camera: a teacher and a pupil in one mesh call.

Both sides must decode video frames from the other (`getStats`), over host candidates on this
machine: no STUN server is configured, and Chromium's mDNS masking of host addresses is turned
off so that the two pages find each other without a resolver.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    Site,
    _require_tools,
    check_screen,
    new_context,
    sign_in,
)
from tests.support.live import HubClient
from tests.support.room import add_teacher, bearer
from tests.support.waiting import WAIT

FAKE_MEDIA_ARGS = [
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]

# Every video frame decoded so far, summed over the page's peer connections.
FRAMES_DECODED = """async () => {
  let frames = 0;
  for (const pc of window.__peers ?? []) {
    const stats = await pc.getStats();
    stats.forEach((s) => { if (s.type === "inbound-rtp" && s.kind === "video") frames += s.framesDecoded ?? 0; });
  }
  return frames;
}"""

# Keeps a reference to every RTCPeerConnection the page makes, for getStats.
TRACK_PEERS = """(() => {
  const Original = window.RTCPeerConnection;
  window.__peers = [];
  window.RTCPeerConnection = function (...args) {
    const pc = new Original(...args);
    window.__peers.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Original.prototype;
})();"""


@pytest.fixture(scope="module")
async def media_browser() -> AsyncIterator[Browser]:
    _require_tools()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS + FAKE_MEDIA_ARGS, headless=True
        )
        yield launched
        await launched.close()


async def person(browser: Browser, site: Site, username: str, password: str) -> Page:
    context = await new_context(browser, site)
    await context.grant_permissions(["camera", "microphone"])
    await context.add_init_script(TRACK_PEERS)
    page = await context.new_page()
    await sign_in(page, username, password)
    await page.goto(f"/#/p/{site.project_id}/video")
    await expect(page.get_by_role("heading", name="Video", exact=True)).to_be_visible()
    return page


async def frames_arrive(page: Page) -> None:
    """Polls getStats (a promise, which `wait_for_function` would take as truthy)."""
    try:
        async with asyncio.timeout(WAIT):
            while await page.evaluate(FRAMES_DECODED) == 0:
                await asyncio.sleep(0.25)
    except TimeoutError:
        raise AssertionError("no video frame was decoded") from None


async def test_teacher_and_pupil_see_each_other_raise_hand_and_mute(
    media_browser: Browser, site: Site
) -> None:
    teacher = await person(media_browser, site, *site.teacher)
    pupil = await person(media_browser, site, site.pupil[0], site.pupil[1])
    await expect(pupil.get_by_text("No video session is running.")).to_be_visible()
    # A pupil may not start one.
    await expect(pupil.get_by_role("button", name="Start a video session")).to_have_count(0)

    # Starting is joining: the teacher is in the call without a second press.
    await teacher.get_by_role("button", name="Start a video session").click()
    await expect(teacher.get_by_role("button", name="Microphone")).to_have_attribute(
        "aria-pressed", "true"
    )
    await pupil.get_by_role("button", name="Join the video session").click()
    await expect(teacher.locator(".video-grid .tile")).to_have_count(2)
    await expect(pupil.locator(".video-grid .tile")).to_have_count(2)

    # Both receive the other's fake camera, decoded.
    await frames_arrive(teacher)
    await frames_arrive(pupil)
    # ...and show it: the other person's tile is playing.
    for page in (teacher, pupil):
        await page.wait_for_function(
            "[...document.querySelectorAll('.tile video')].some((v) => !v.muted && !v.paused"
            " && v.videoWidth > 0)",
            timeout=WAIT * 1000,
        )
    # Device selection lists Chromium's fake devices.
    await expect(pupil.get_by_label("Camera to use")).to_be_visible()

    await pupil.get_by_role("button", name="Raise hand").click()
    await expect(teacher.locator(".hands li")).to_have_text([site.pupil[2]])
    await expect(teacher.locator(".tile.hand-up")).to_contain_text(site.pupil[2])
    await check_screen(teacher, "20-video-teacher")
    await check_screen(pupil, "21-video-pupil")

    # The teacher mutes the pupil: the pupil's client obeys, the state says so everywhere.
    await teacher.get_by_role("button", name=f"Mute {site.pupil[2]}").click()
    await expect(
        pupil.get_by_role("status").filter(has_text="turned your microphone off")
    ).to_be_visible()
    await expect(pupil.get_by_role("button", name="Microphone")).to_have_attribute(
        "aria-pressed", "false"
    )
    # Their own tile is the muted <video> playing the local stream.
    assert await pupil.evaluate(
        """[...document.querySelectorAll('.tile video')].find((v) => v.muted)
          .srcObject.getAudioTracks().every((track) => !track.enabled)"""
    )
    await expect(teacher.locator(".tile", has_text=site.pupil[2])).to_contain_text("microphone off")

    await teacher.get_by_role("button", name="End the session for everyone").click()
    await expect(pupil.get_by_text("No video session is running.")).to_be_visible()

    # With a waiting room the pupil waits until the teacher lets them in; then is removed.
    await teacher.get_by_label("Waiting room: I let people in one by one").check()
    await teacher.get_by_role("button", name="Start a video session").click()
    await expect(teacher.locator(".video-grid .tile")).to_have_count(1)
    # The old "turned your microphone off" notice went with the session that ended.
    await expect(pupil.get_by_text("A teacher turned your microphone off.")).to_have_count(0)
    await pupil.get_by_role("button", name="Join the video session").click()
    await expect(pupil.get_by_text("Waiting for a teacher to let you in…")).to_be_visible()
    await check_screen(teacher, "22-video-lobby")
    await teacher.get_by_role("button", name=f"Let {site.pupil[2]} in").click()
    await expect(pupil.get_by_text("You are in the call. People in it: 2.")).to_be_visible()
    await teacher.get_by_role("button", name=f"Remove {site.pupil[2]}").click()
    await expect(pupil.get_by_text("A teacher removed you from the call.")).to_have_count(1)
    await expect(teacher.locator(".video-grid .tile")).to_have_count(1)
    # A removed pupil is offered no Join, not even after reloading the page.
    await expect(pupil.get_by_role("button", name="Join the video session")).to_have_count(0)
    await pupil.reload()
    await expect(pupil.get_by_text("A teacher removed you from the call.")).to_be_visible()
    await expect(pupil.get_by_role("button", name="Join the video session")).to_have_count(0)
    await teacher.get_by_role("button", name="End the session for everyone").click()
    await expect(pupil.get_by_text("No video session is running.")).to_be_visible()
    await expect(pupil.get_by_text("A teacher removed you from the call.")).to_have_count(0)
    await teacher.context.close()
    await pupil.context.close()


async def test_a_full_session_says_so_before_join_and_the_call_has_its_side_panel(
    media_browser: Browser, site: Site
) -> None:
    """ "2 of 2 — full" before any Join; "in a video call" only while seated; at a school
    laptop's size the teacher's controls and the room's chat sit beside the grid."""
    teacher = await person(media_browser, site, *site.teacher)
    await teacher.set_viewport_size({"width": 1366, "height": 768})
    pupil = await person(media_browser, site, site.pupil[0], site.pupil[1])
    presence = teacher.locator(".presence .person", has_text=site.pupil[2])
    await expect(presence).to_be_visible()
    # Looking at the video page is not being in a call.
    await expect(presence).not_to_contain_text("in a video call")

    # Another teacher starts a session of two and fills it with the founder.
    other_id = await add_teacher(site.live.services, "carla")
    other = bearer(site.live.services, other_id)
    invited = await site.live.http.post(
        f"/api/projects/{site.project_id}/members",
        json={"username": "carla", "role": "teacher_admin"},
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    assert invited.status_code == 201, invited.text
    carla = await HubClient.connect(
        site.live.url, site.project_id, other["Authorization"].removeprefix("Bearer ")
    )
    try:
        await carla.ok("rtc.start", max_participants=2)
        await carla.ok("rtc.join")
        await teacher.get_by_role("button", name="Join the video session").click()
        await expect(teacher.locator(".video-grid .tile")).to_have_count(2)
        await expect(presence).not_to_contain_text("in a video call")
        await expect(pupil.get_by_text("2 of 2 — full")).to_be_visible()
        what_to_do = pupil.get_by_text("When someone leaves, a Join button appears")
        await expect(what_to_do).to_be_visible()
        await expect(pupil.get_by_role("button", name="Join the video session")).to_have_count(0)
        await check_screen(pupil, "23-video-full")

        # The controls and the chat are beside the grid, on the first screen.
        grid = await teacher.locator(".video-grid").bounding_box()
        controls = await teacher.locator(".video-moderation").bounding_box()
        chat = await teacher.locator(".video-chat").bounding_box()
        assert grid and controls and chat
        assert controls["x"] >= grid["x"] + grid["width"] - 1, (grid, controls)
        assert controls["y"] + 60 < 768, controls
        end = teacher.get_by_role("button", name="End the session for everyone")
        await expect(end).to_be_in_viewport()
        said = f"Can you hear me {uuid.uuid4().hex[:6]}"
        box = teacher.locator(".video-chat textarea")
        await box.fill(said)
        await box.press("Enter")
        await expect(pupil.locator(".video-chat .message", has_text=said)).to_have_count(1)
        await check_screen(teacher, "24-video-side-panel-1366")

        # A seat frees: the Join button comes back by itself, and joining shows in presence.
        await carla.ok("rtc.leave")
        await pupil.get_by_role("button", name="Join the video session").click()
        await expect(pupil.locator(".video-grid .tile")).to_have_count(2)
        await expect(presence).to_contain_text("in a video call")
        await teacher.get_by_role("button", name="End the session for everyone").click()
        await expect(pupil.get_by_text("No video session is running.")).to_be_visible()
        await expect(presence).not_to_contain_text("in a video call")
    finally:
        await carla.close()
    await teacher.context.close()
    await pupil.context.close()


async def tab_to(page: Page, name: str, most: int = 40) -> None:
    """Tab forward (keyboard only) until the button called `name` has the focus."""
    for _ in range(most):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(
            "document.activeElement?.tagName === 'BUTTON' ? document.activeElement.textContent : ''"
        )
        if focused == name:
            return
    raise AssertionError(f"{name!r} was not reached in {most} Tab presses")


async def test_by_keyboard_alone_in_italian_and_arabic_at_laptop_and_phone_sizes(
    media_browser: Browser, site: Site
) -> None:
    """A teacher (Italian, 1366×768) starts by keyboard and is in the call at once; a pupil
    (Arabic, 375×667) joins by keyboard; both see each other's tile."""
    teacher_context = await new_context(media_browser, site, locale="it-IT")
    pupil_context = await new_context(media_browser, site, locale="ar-EG")
    pages = []
    for context, who, size in (
        (teacher_context, site.teacher, (1366, 768)),
        (pupil_context, site.pupil[:2], (375, 667)),
    ):
        await context.grant_permissions(["camera", "microphone"])
        page = await context.new_page()
        await page.set_viewport_size({"width": size[0], "height": size[1]})
        await sign_in(page, *who)
        await page.goto(f"/#/p/{site.project_id}/video")
        pages.append(page)
    teacher, pupil = pages
    await expect(teacher.get_by_role("heading", name="Video", exact=True)).to_be_visible()
    await expect(pupil.get_by_role("heading", name="الفيديو")).to_be_visible()

    await tab_to(teacher, "Avvia una sessione video")
    await teacher.keyboard.press("Enter")
    await expect(teacher.locator(".video-grid .tile")).to_have_count(1)
    await expect(
        teacher.get_by_role("button", name="Termina la sessione per tutti")
    ).to_be_visible()

    await tab_to(pupil, "انضم إلى جلسة الفيديو")
    await pupil.keyboard.press("Enter")
    await expect(pupil.locator(".video-grid .tile")).to_have_count(2)
    await expect(teacher.locator(".video-grid .tile")).to_have_count(2)
    await check_screen(teacher, "25-video-keyboard-it-1366")
    await check_screen(pupil, "26-video-keyboard-ar-375")
    # The phone shows no sideways scroll.
    assert await pupil.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    await tab_to(teacher, "Termina la sessione per tutti", most=80)
    await teacher.keyboard.press("Enter")
    await expect(pupil.get_by_text("لا توجد جلسة فيديو جارية.")).to_be_visible()
    await teacher_context.close()
    await pupil_context.close()


@pytest.mark.parametrize(("width", "height"), [(375, 667), (1366, 768)])
async def test_the_call_page_keeps_the_box_under_the_history_and_the_controls_in_reach(
    media_browser: Browser, site: Site, width: int, height: int
) -> None:
    """Issue 17: the call's chat box sits right under its history, and on a phone the teacher's
    controls come before the grid, on the first screen, instead of below every tile."""
    teacher = await person(media_browser, site, *site.teacher)
    await teacher.set_viewport_size({"width": width, "height": height})
    pupil = await person(media_browser, site, site.pupil[0], site.pupil[1])
    await teacher.get_by_role("button", name="Start a video session").click()
    await pupil.get_by_role("button", name="Join the video session").click()
    await expect(teacher.locator(".video-grid .tile")).to_have_count(2)
    mute = teacher.get_by_role("button", name=f"Mute {site.pupil[2]}")
    end = teacher.get_by_role("button", name="End the session for everyone")
    await expect(teacher.get_by_role("button", name="Leave the call")).to_be_in_viewport()
    grid = await teacher.locator(".video-grid").bounding_box()
    moderation = await teacher.locator(".video-moderation").bounding_box()
    assert grid and moderation
    if width < 640:
        # Above the grid on a phone: reached without scrolling past a single tile.
        assert moderation["y"] + moderation["height"] <= grid["y"], (grid, moderation)
    else:
        # Beside the grid on a laptop, on the first screen.
        assert moderation["x"] >= grid["x"] + grid["width"] - 1, (grid, moderation)
        for control in (mute, end):
            await expect(control).to_be_in_viewport()
    assert await teacher.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    history = await teacher.locator(".video-chat .scroller").bounding_box()
    box = await teacher.locator(".video-chat .composer").bounding_box()
    assert history and box
    # Nobody types: nothing lies between the history and its box but a thin margin.
    assert 0 <= box["y"] - (history["y"] + history["height"]) <= 12, (history, box)
    await check_screen(teacher, f"27-video-layout-{width}x{height}")
    await end.click()
    await expect(pupil.get_by_text("No video session is running.")).to_be_visible()
    await teacher.context.close()
    await pupil.context.close()
