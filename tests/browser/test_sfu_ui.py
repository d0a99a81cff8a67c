"""The class-size video (SFU sessions) in Chromium with fake cameras, against a real Janus.

A teacher and two pupils, each a page of one Chromium that runs inside a network namespace
with Janus (tests/support/janus_browser.py); the server listens on the namespace's veth peer.
Every page decodes the others' video through Janus (`getStats`), the pupil's subscription to
the teacher changes its simulcast layer with the view (the decoded width drops in the grid and
comes back in the speaker view), a shared screen shows large for everyone, the teacher splits
the class into groups, messages every group, visits one and calls everyone back. Screens are
checked with axe at a laptop's and a phone's size; the Arabic pupil joins, changes the view and
raises a hand by keyboard alone. Two aiortc pupils (hub sockets, media peers in the namespace)
join three pages: each side decodes the other's feeds, and the speaker view follows whichever
peer sends a loud tone (Janus's audio levels; the pages send silence). Then: eleven in a call
are paged (by keyboard), a camera lock keeps the camera out of a pupil's feed, a publish refused
while Janus hangs is tried again by the page, and when the Janus holding the session is killed the pages publish and subscribe again on the other one
(`rtc.media_restart`).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal

import pytest
from playwright.async_api import Browser, expect

from signaling.state import running
from tests.browser.conftest import (
    ROOT,
    check_screen,
    no_sideways_scrolling,
)
from tests.browser.sfu_lesson import (
    Class,
    chromium,
    lesson,
    net,
    no_session_left,
    person,
    until_locked,
)
from tests.browser.sfu_pages import (
    COUNT_REFUSED_PUBLISHES,
    decoding,
    inbound,
    refused_publishes,
    sending,
    tab_to,
    tile_decodes,
    until,
)
from tests.browser.sfu_peers import peer_pupils, receives, take_seat
from tests.support import janus
from tests.support.janus_browser import BrowserNet
from tests.support.live import HubClient
from tests.support.room import bearer, settle_password

pytestmark = pytest.mark.skipif(
    not janus.available(), reason="needs Janus (make janus) and root for network namespaces"
)

ARABIC = json.loads((ROOT / "static/src/locales/ar.json").read_text(encoding="utf-8"))
__all__ = ["chromium", "lesson", "net", "no_session_left"]


async def test_a_class_on_the_sfu_sees_each_other_in_speaker_and_grid_views(
    chromium: Browser, lesson: Class
) -> None:
    teacher = await person(chromium, lesson, "ana", (1366, 768))
    ines = await person(chromium, lesson, lesson.pupils[0][0], (375, 667))
    rui = await person(chromium, lesson, lesson.pupils[1][0], (375, 667), locale="ar-EG")
    ines_name, rui_name = lesson.pupils[0][1], lesson.pupils[1][1]

    # The teacher starts a session for the whole class: the server puts it on Janus.
    await teacher.get_by_label("A whole class, each on their own device").check()
    await teacher.get_by_role("button", name="Start a video session").click()
    await expect(teacher.get_by_role("button", name="Speaker view")).to_have_attribute(
        "aria-pressed", "true"
    )
    # The Arabic pupil joins by keyboard alone. While his focus is on the join button, Inês
    # joins: his page is redrawn, and the focus stays on the (new) join button.
    await tab_to(rui, "join")
    focused = await rui.evaluate_handle("document.activeElement")
    await ines.get_by_role("button", name="Join the video session").click()
    await rui.wait_for_function("(button) => !button.isConnected", arg=focused)
    await expect(rui.locator("[data-control=join]")).to_be_focused()
    await rui.keyboard.press("Enter")
    for page in (teacher, ines, rui):
        await expect(page.locator(".video-stage .tile")).to_have_count(3)

    # Everyone decodes the two others, each forwarded by Janus from one upload.
    for page in (teacher, ines, rui):
        await until(page, "two feeds decoded", decoding(2))

    # Speaker view: the teacher large (the largest layer), Rui small (the smallest).
    await expect(ines.locator(".stage-large .tile")).to_contain_text("Ana")
    speaker = await until(
        ines,
        "the large tile decodes a larger layer than the small one",
        lambda found: len({s["width"] for s in found if s and s["width"]}) == 2,
    )
    widths = [s["width"] if s else 0 for s in speaker]
    large = widths.index(max(widths))
    # Grid view: every tile small, so the teacher's subscription drops to the smallest layer.
    await ines.get_by_role("button", name="Grid view").click()
    await expect(ines.locator(".stage-large .tile")).to_have_count(0)
    grid = await until(
        ines,
        "the teacher's feed went down a layer in the grid",
        lambda found: 0 < (found[large] or {"width": 0})["width"] < widths[large],
    )
    small = (grid[large] or {"width": 0})["width"]
    await ines.get_by_role("button", name="Speaker view").click()
    await until(
        ines,
        "the teacher's feed came back large",
        lambda found: (found[large] or {"width": 0})["width"] > small,
    )
    await check_screen(teacher, "40-sfu-teacher-1366")
    await check_screen(ines, "41-sfu-pupil-375")
    await no_sideways_scrolling(ines)

    # Rui switches to the grid by keyboard; his page is right to left, with no sideways scroll.
    assert await rui.evaluate("document.documentElement.dir") == "rtl"
    await tab_to(rui, "grid-view")
    await rui.keyboard.press("Enter")
    await expect(rui.get_by_role("button", name=ARABIC["video.grid_view"])).to_have_attribute(
        "aria-pressed", "true"
    )
    await tab_to(rui, "hand")
    await rui.keyboard.press("Enter")
    await expect(teacher.locator(".hands li")).to_have_text([rui_name])
    await check_screen(rui, "42-sfu-pupil-keyboard-ar-375")
    await no_sideways_scrolling(rui)

    # The teacher shares a screen: it is large for everyone (a pupil may not share one).
    await expect(ines.get_by_role("button", name="Share my screen")).to_have_count(0)
    await teacher.get_by_role("button", name="Share my screen").click()
    for page in (ines, rui):
        await expect(page.locator(".stage-large .tile.screen")).to_have_count(1)
        await until(page, "the screen decoded", decoding(3))
    await expect(ines.locator(".stage-large .tile.screen")).to_contain_text("Ana")
    await check_screen(ines, "43-sfu-screen-375")
    await teacher.get_by_role("button", name="Share my screen").click()
    await expect(ines.locator(".stage-large .tile.screen")).to_have_count(0)

    # Breakout groups: two, mixed by school; each pupil is told which one and sees only it.
    await teacher.get_by_label("Number of groups").fill("2")
    await teacher.get_by_role("button", name="Split into groups, mixing the schools").click()
    await expect(ines.get_by_role("status").filter(has_text="You are in group")).to_be_visible()
    await expect(rui.locator(".group-note")).not_to_be_empty()
    for page in (ines, rui):
        await expect(page.locator(".video-stage .tile")).to_have_count(1)
    await expect(teacher.locator(".video-stage .tile")).to_have_count(1)
    await expect(teacher.locator(".group-list li")).to_have_count(2)
    said = "Five more minutes, then we share"
    await teacher.get_by_label("Message to every group").fill(said)
    await teacher.get_by_label("Message to every group").press("Enter")
    await expect(ines.get_by_role("alert").filter(has_text=said)).to_be_visible()
    await expect(rui.get_by_role("alert").filter(has_text=said)).to_be_visible()
    await check_screen(teacher, "44-sfu-breakouts-1366")

    # The teacher visits Inês's group: they see each other there, and Rui is not in it.
    ines_group = teacher.locator(".group-list li", has_text=ines_name)
    await ines_group.get_by_role("button").click()
    await expect(ines.locator(".video-stage .tile")).to_have_count(2)
    await expect(teacher.locator(".video-stage .tile")).to_have_count(2)
    await expect(teacher.locator(".video-stage .tile", has_text=rui_name)).to_have_count(0)
    await until(ines, "the visiting teacher decoded", decoding(1))

    # Everyone back: three tiles again, each decoding the two others.
    await teacher.get_by_role("button", name="Call everyone back").click()
    for page in (teacher, ines, rui):
        await expect(page.locator(".video-stage .tile")).to_have_count(3)
        await expect(page.locator(".group-note")).to_be_empty()
    for page in (teacher, ines, rui):
        await until(page, "two feeds decoded after the recall", decoding(2))

    await teacher.get_by_role("button", name="End the session for everyone").click()
    await expect(ines.get_by_text("No video session is running.")).to_be_visible()
    for page in (teacher, ines, rui):
        await page.context.close()


async def test_pages_and_aiortc_peers_see_each_other_and_the_speaker_view_follows_the_voice(
    chromium: Browser, lesson: Class, net: BrowserNet
) -> None:
    """Three pages and two aiortc pupils (hub sockets, media peers in the namespace) in one
    session: each page decodes the peers' tiles and each peer the pages' feeds. Then one peer
    talks (a loud tone; everyone else sends silence): Janus's audio levels make it the speaker,
    shown large and marked on every page; then the other talks, and the large tile follows."""
    names = ["Leo Duarte", "Mia Sousa"]
    async with peer_pupils(
        lesson.live, lesson.project_id, lesson.teacher_headers, net, names
    ) as peers:
        teacher = await person(chromium, lesson, "ana", (1366, 768))
        ines = await person(chromium, lesson, lesson.pupils[0][0], (375, 667))
        rui = await person(chromium, lesson, lesson.pupils[1][0], (375, 667), locale="ar-EG")
        pages = (teacher, ines, rui)
        await teacher.get_by_label("A whole class, each on their own device").check()
        await teacher.get_by_role("button", name="Start a video session").click()
        await ines.get_by_role("button", name="Join the video session").click()
        await rui.locator("[data-control=join]").click()  # in Arabic
        for page in pages:
            await until(page, "two feeds decoded", decoding(2))
        for pupil in peers:
            seated = await take_seat(pupil)
            # The pages' feeds (the peers' own are checked by the pages).
            pages_feeds = [f for f in seated if f not in {p.participant_id for p in peers}]
            await asyncio.gather(*(receives(pupil, feed) for feed in pages_feeds))
        for page in pages:
            await expect(page.locator(".video-stage .tile")).to_have_count(5)
        await asyncio.gather(*(tile_decodes(page, name) for page in pages for name in names))

        # Leo talks: large and marked as the speaker on every page, nobody else marked.
        leo, mia = peers
        await leo.peer.command("loud", loud=True)
        for page in pages:
            await expect(page.locator(".stage-large .tile.speaking")).to_contain_text(leo.name)
            await expect(page.locator(".video-stage .tile.speaking")).to_have_count(1)
        await expect(teacher.locator(".stage-large .tile")).to_contain_text("speaking")
        await tile_decodes(teacher, leo.name)
        await check_screen(teacher, "47-sfu-speaker-1366")
        # Leo stops: no one is marked, and he stays large until someone else talks.
        await leo.peer.command("loud", loud=False)
        for page in pages:
            await expect(page.locator(".video-stage .tile.speaking")).to_have_count(0)
            await expect(page.locator(".stage-large .tile")).to_contain_text(leo.name)
        # Mia talks: the large tile switches to her.
        await mia.peer.command("loud", loud=True)
        for page in pages:
            await expect(page.locator(".stage-large .tile.speaking")).to_contain_text(mia.name)
            await expect(page.locator(".stage-grid .tile", has_text=leo.name)).to_have_count(1)
        await tile_decodes(ines, mia.name)
        await check_screen(ines, "48-sfu-speaker-switched-375")
        await no_sideways_scrolling(ines)
        await mia.peer.command("loud", loud=False)
        await teacher.get_by_role("button", name="End the session for everyone").click()
        await expect(ines.get_by_text("No video session is running.")).to_be_visible()
        for page in pages:
            await page.context.close()


async def test_more_people_than_a_page_holds_are_paged_by_keyboard(
    chromium: Browser, lesson: Class
) -> None:
    """Ten more pupils join (without cameras, as sockets): the teacher's views hold nine small
    tiles a page, and the page buttons (reached by keyboard) show the rest."""
    teacher = await person(chromium, lesson, "ana", (1366, 768))
    await teacher.get_by_label("A whole class, each on their own device").check()
    await teacher.get_by_role("button", name="Start a video session").click()
    await expect(teacher.locator(".video-stage .tile")).to_have_count(1)
    sockets = []
    try:
        for number in range(10):
            made = await lesson.live.http.post(
                f"/api/projects/{lesson.project_id}/pupils",
                json={"display_name": f"Pupil {number:02d}"},
                headers=lesson.teacher_headers,
            )
            assert made.status_code == 201, made.text
            user_id = made.json()["pupils"][0]["user_id"]
            await settle_password(lesson.live.services, user_id)
            token = bearer(lesson.live.services, user_id)["Authorization"].removeprefix("Bearer ")
            socket = await HubClient.connect(lesson.live.url, lesson.project_id, token)
            sockets.append(socket)
            await socket.ok("rtc.join")
        await expect(teacher.get_by_text("People in it: 11.")).to_be_visible()
        # Speaker view: one large, nine small on the first page, the tenth on the second.
        await expect(teacher.locator(".stage-large .tile")).to_have_count(1)
        await expect(teacher.locator(".stage-grid .tile")).to_have_count(9)
        await expect(teacher.get_by_role("status").filter(has_text="Page 1 of 2")).to_be_visible()
        await expect(teacher.get_by_role("button", name="Previous page")).to_be_disabled()
        await tab_to(teacher, "next-page")
        await teacher.keyboard.press("Enter")
        await expect(teacher.get_by_role("status").filter(has_text="Page 2 of 2")).to_be_visible()
        await expect(teacher.locator(".stage-grid .tile")).to_have_count(1)
        await expect(teacher.locator(".stage-grid .tile")).to_contain_text("Pupil 09")
        # Next page is disabled on the last page: the keyboard's focus went to Previous page.
        await expect(teacher.get_by_role("button", name="Previous page")).to_be_focused()
        await check_screen(teacher, "45-sfu-second-page-1366")
        # Grid view starts on the first page again: nine tiles, then two.
        await teacher.get_by_role("button", name="Grid view").click()
        await expect(teacher.locator(".stage-large .tile")).to_have_count(0)
        await expect(teacher.locator(".stage-grid .tile")).to_have_count(9)
        await teacher.get_by_role("button", name="Next page").click()
        await expect(teacher.locator(".stage-grid .tile")).to_have_count(2)
        await teacher.set_viewport_size({"width": 375, "height": 667})
        await no_sideways_scrolling(teacher)
        await check_screen(teacher, "46-sfu-grid-375")
        await teacher.get_by_role("button", name="End the session for everyone").click()
        await expect(teacher.get_by_text("No video session is running.")).to_be_visible()
    finally:
        for socket in sockets:
            await socket.close()
        await teacher.context.close()


async def test_a_pupil_who_joined_under_a_camera_lock_publishes_the_camera_once_unlocked(
    chromium: Browser, lesson: Class
) -> None:
    """Under the lock the pupil's feed carries the microphone only (an offer with video would
    be refused); unlocked, turning the camera on publishes it again with the camera."""
    teacher = await person(chromium, lesson, "ana", (1366, 768))
    ines = await person(chromium, lesson, lesson.pupils[0][0], (375, 667))
    await teacher.get_by_label("A whole class, each on their own device").check()
    await teacher.get_by_role("button", name="Start a video session").click()
    await teacher.get_by_label("Keep cameras off").check()
    # The teacher's lock and Ines's join travel on two sockets: on a busy machine the join was
    # handled first, and she joined unlocked. She joins once the server holds the lock.
    await until_locked(lesson, camera=True)
    await ines.get_by_role("button", name="Join the video session").click()
    camera = ines.get_by_role("button", name="Camera", exact=True)
    await expect(camera).to_be_disabled()
    await sending(ines, ["audio"])
    # Ines receives the teacher (a moderator is not locked).
    await until(ines, "the teacher decoded", decoding(1))

    await teacher.get_by_label("Keep cameras off").uncheck()
    await expect(camera).to_be_enabled()
    await camera.click()
    await expect(camera).to_have_attribute("aria-pressed", "true")
    await sending(ines, ["audio,video"])
    await teacher.get_by_role("button", name="End the session for everyone").click()
    await expect(ines.get_by_text("No video session is running.")).to_be_visible()
    for page in (teacher, ines):
        await page.context.close()


async def test_a_publish_refused_while_janus_hangs_is_tried_again(
    chromium: Browser, lesson: Class, net: BrowserNet
) -> None:
    """Janus stops answering as a pupil turns her camera on: once Janus's reply bound passes
    the hub refuses her publish (`media_unavailable`), and her page tries again after a pause;
    when Janus answers again her camera is published without her doing anything."""
    teacher = await person(chromium, lesson, "ana", (1366, 768))
    ines = await person(chromium, lesson, lesson.pupils[0][0], (375, 667))
    await ines.context.add_init_script(COUNT_REFUSED_PUBLISHES)
    await ines.reload()
    await teacher.get_by_label("A whole class, each on their own device").check()
    await teacher.get_by_role("button", name="Start a video session").click()
    await teacher.get_by_label("Keep cameras off").check()
    await until_locked(lesson, camera=True)
    await ines.get_by_role("button", name="Join the video session").click()
    await sending(ines, ["audio"])
    await teacher.get_by_label("Keep cameras off").uncheck()
    camera = ines.get_by_role("button", name="Camera", exact=True)
    await expect(camera).to_be_enabled()

    async with lesson.live.services.db.reader() as tx:
        video = await running(tx, lesson.project_id)
    assert video is not None
    holder = next(j for j in net.januses if j.socket_path == video.media_server)
    assert holder.process is not None
    os.kill(holder.process.pid, signal.SIGSTOP)
    try:
        await camera.click()
        await refused_publishes(ines)
    finally:
        os.kill(holder.process.pid, signal.SIGCONT)
    await sending(ines, ["audio,video"])
    await until(teacher, "Ines's camera decoded", decoding(1))
    await teacher.get_by_role("button", name="End the session for everyone").click()
    await expect(ines.get_by_text("No video session is running.")).to_be_visible()
    for page in (teacher, ines):
        await page.context.close()


async def test_pages_publish_and_subscribe_again_when_their_janus_dies(
    chromium: Browser, lesson: Class, net: BrowserNet
) -> None:
    """`rtc.media_restart`: the session moved to the other Janus; both pages publish again on
    their own, and each decodes the other's video from the new instance."""
    teacher = await person(chromium, lesson, "ana", (1366, 768))
    ines = await person(chromium, lesson, lesson.pupils[0][0], (375, 667))
    await teacher.get_by_label("A whole class, each on their own device").check()
    await teacher.get_by_role("button", name="Start a video session").click()
    await ines.get_by_role("button", name="Join the video session").click()
    for page in (teacher, ines):
        await until(page, "the other's feed decoded", decoding(1))
    async with lesson.live.services.db.reader() as tx:
        video = await running(tx, lesson.project_id)
    assert video is not None
    holder = next(j for j in net.januses if j.socket_path == video.media_server)
    before = {page: len(await inbound(page)) for page in (teacher, ines)}

    holder.kill()
    assert holder.process is not None
    await holder.process.wait()
    for page in (teacher, ines):
        # New connections (publisher and subscription) decode: made after the restart.
        await until(
            page,
            "the other's feed decoded from the other Janus",
            lambda found, n=before[page]: any(s and s["frames"] > 0 for s in found[n:]),
        )
    async with lesson.live.services.db.reader() as tx:
        moved = await running(tx, lesson.project_id)
    assert moved is not None and moved.media_server != holder.socket_path
    await teacher.get_by_role("button", name="End the session for everyone").click()
    await expect(ines.get_by_text("No video session is running.")).to_be_visible()
    for page in (teacher, ines):
        await page.context.close()
