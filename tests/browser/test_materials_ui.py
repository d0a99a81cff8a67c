"""Materials in Chromium against the real server: a pupil uploads a photo and a file with the
client's tus-js-client, the network drops mid-upload and the upload resumes to a byte-identical
file on the server, a teacher approves both, and another pupil sees them live; then the same
by keyboard alone, in Arabic on a phone.

The tests share one server and run in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import os
import zipfile
from pathlib import Path

from playwright.async_api import Browser, Locator, Page, Route, expect

from tests.browser.conftest import (
    Site,
    check_screen,
    image_shown,
    new_context,
    no_sideways_scrolling,
    sign_in,
)
from tests.materials.support import gps_photo
from tests.support.room import first_sign_in
from tests.support.waiting import WAIT, eventually

# Three 5 MiB PATCHes from the client: the network drops on the second.
BIG = 12 * 1000 * 1000


def big_zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("measurements.bin", os.urandom(BIG))
    return out.getvalue()


async def open_room(page: Page, site: Site, view: str) -> None:
    await page.goto(f"/#/p/{site.project_id}/{view}")
    await expect(page.locator(".banner.link-connecting, .banner.link-offline")).to_have_count(0)


async def second_pupil(site: Site) -> tuple[str, str]:
    made = await site.live.http.post(
        f"/api/projects/{site.project_id}/pupils",
        json={"display_name": "Mehmet Kaya"},
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    assert made.status_code == 201, made.text
    pupil = made.json()["pupils"][0]
    await first_sign_in(site.live.http, pupil["username"], pupil["password"])
    return pupil["username"], site.pupil[1]


async def tab_to(page: Page, target: Locator, most: int = 60) -> None:
    """Tab forward (keyboard only) until `target` has the focus."""
    handle = await target.element_handle()
    for _ in range(most):
        await page.keyboard.press("Tab")
        if await page.evaluate("(element) => document.activeElement === element", handle):
            return
    raise AssertionError(f"{target} was not reached in {most} Tab presses")


async def test_a_pupil_uploads_through_a_dropped_network_and_a_teacher_approves(
    browser: Browser, teacher: Page, pupil: Page, site: Site
) -> None:
    # The teacher makes an album and a folder in the room's materials.
    await open_room(teacher, site, "chat/general")
    await teacher.get_by_role("link", name="Materials").click()
    await expect(teacher.get_by_text("There are no albums or folders yet.")).to_be_visible()
    for kind, title in (("album", "Our river"), ("folder", "Measurements")):
        await teacher.get_by_label("Kind").select_option(kind)
        await teacher.get_by_label("Title").fill(title)
        await teacher.get_by_role("button", name="Create").click()
        await expect(teacher.get_by_role("link", name=title)).to_be_visible()
    await check_screen(teacher, "60-materials-teacher")

    # The pupil uploads a phone photo into the album: it waits for a teacher's review.
    await open_room(pupil, site, "materials")
    await pupil.get_by_role("link", name="Our river").click()
    photo = pupil.get_by_label("Choose photos")
    await photo.set_input_files(
        {"name": "river.jpg", "mimeType": "image/jpeg", "buffer": gps_photo((640, 480))}
    )
    await expect(pupil.get_by_role("alert")).to_have_text(
        "Tick the statement above the file picker first."
    )
    await pupil.get_by_label("I made this myself").check()
    await photo.set_input_files(
        {"name": "river.jpg", "mimeType": "image/jpeg", "buffer": gps_photo((640, 480))}
    )
    await expect(pupil.locator(".upload-row.state-done")).to_have_count(1)
    tile = pupil.locator(".material-tile", has_text="river.jpg")
    await expect(tile.get_by_text("Waiting for a teacher's review")).to_be_visible()
    # The small thumbnail of the photo, turned upright from its EXIF orientation (6: 90°).
    assert await image_shown(tile.locator("img.thumb")) == [240, 320]

    # A 12 MB file into the folder; the network drops during its second PATCH.
    data = big_zip()
    patches: list[int] = []

    async def cut_second_patch(route: Route) -> None:
        if route.request.method != "PATCH":
            await route.continue_()
            return
        patches.append(int(route.request.headers["upload-offset"]))
        if len(patches) == 2:
            await pupil.context.set_offline(True)
            await route.abort("internetdisconnected")
            return
        await route.continue_()

    await pupil.route("**/uploads/*", cut_second_patch)
    await pupil.get_by_role("link", name="All albums and folders").click()
    await pupil.get_by_role("link", name="Measurements").click()
    await pupil.get_by_label("I made this myself").check()
    await pupil.get_by_label("Choose files").set_input_files(
        {"name": "measurements.zip", "mimeType": "application/zip", "buffer": data}
    )
    row = pupil.locator(".upload-row", has_text="measurements.zip")
    await expect(row.get_by_text("Waiting for the network")).to_be_visible()
    await check_screen(pupil, "61-materials-upload-waiting")
    await expect(row.get_by_role("button", name="Try again")).to_be_visible()
    # The network comes back: the upload continues from where the server stands, by itself.
    await pupil.context.set_offline(False)
    await expect(row).to_have_class("upload-row state-done")
    await pupil.unroute("**/uploads/*")
    assert patches[0] == 0 and patches[1] > 0, patches
    # The retried PATCH began at the server's offset (HEAD), not at the start.
    assert patches[-1] > 0 and len(patches) >= 3, patches

    # On the server, the file is byte for byte what the pupil had.
    headers = {"Authorization": f"Bearer {site.teacher_token}"}
    queue = await site.live.http.get(
        f"/api/projects/{site.project_id}/materials/review", headers=headers
    )
    pending = {m["filename"]: m for m in queue.json()["materials"]}
    assert set(pending) == {"river.jpg", "measurements.zip"}
    stored = await site.live.http.get(
        f"/api/projects/{site.project_id}/materials/{pending['measurements.zip']['id']}/file",
        headers=headers,
    )
    assert stored.status_code == 200
    assert hashlib.sha256(stored.content).hexdigest() == hashlib.sha256(data).hexdigest()

    # Another pupil sees neither yet; the teacher approves them and they appear, live.
    other_name, other_password = await second_pupil(site)
    context = await new_context(browser, site)
    other = await context.new_page()
    try:
        await sign_in(other, other_name, other_password)
        await open_room(other, site, "materials")
        await other.get_by_role("link", name="Our river").click()
        await expect(other.get_by_text("Nothing here yet.")).to_be_visible()
        await expect(other.get_by_text("Choose photos")).to_be_visible()

        await open_room(teacher, site, "materials")
        await expect(
            teacher.get_by_role("heading", name="2 uploads waiting for review")
        ).to_be_visible()
        await check_screen(teacher, "62-materials-review")
        for name in ("river.jpg", "measurements.zip"):
            row = teacher.locator(".review-row", has_text=name)
            await row.get_by_role("button", name="Approve").click()
            await expect(row).to_have_count(0)
        await expect(teacher.get_by_text("No uploads are waiting for review.")).to_be_visible()

        shown = other.locator(".material-tile", has_text="river.jpg")
        await expect(shown).to_be_visible()
        await expect(shown.get_by_text("Waiting for a teacher's review")).to_have_count(0)
        await shown.get_by_role("button").click()
        viewer = other.get_by_role("dialog")
        await image_shown(viewer.locator("img.viewer-image"))
        await check_screen(other, "63-materials-viewer-pupil")
        await other.keyboard.press("Escape")
        await expect(viewer).to_have_count(0)
    finally:
        await context.close()


async def test_by_keyboard_alone_in_arabic_on_a_phone(browser: Browser, site: Site) -> None:
    """The pupil (Arabic, 375×667) uploads a photo and opens the viewer with the keyboard."""
    context = await new_context(browser, site, locale="ar-EG")
    page = await context.new_page()
    await page.set_viewport_size({"width": 375, "height": 667})
    try:
        await sign_in(page, site.pupil[0], site.pupil[1])
        await open_room(page, site, "materials")
        await expect(page.locator("html")).to_have_attribute("dir", "rtl")
        await page.get_by_role("link", name="Our river").focus()
        await page.keyboard.press("Enter")
        declaration = page.get_by_label("صنعته بنفسي")
        await tab_to(page, declaration)
        await page.keyboard.press("Space")
        await expect(declaration).to_be_checked()
        picker = page.get_by_label("اختر صورًا")
        await tab_to(page, picker)
        async with page.expect_file_chooser() as chosen:
            await page.keyboard.press("Space")
        await (await chosen.value).set_files(
            {
                "name": "bridge.png",
                "mimeType": "image/png",
                "buffer": gps_photo((300, 200), fmt="PNG"),
            }
        )
        await expect(page.locator(".upload-row.state-done")).to_have_count(1)
        await check_screen(page, "64-materials-album-arabic-phone")
        tile = page.locator(".material-tile", has_text="river.jpg").get_by_role("button")
        await tab_to(page, tile)
        await page.keyboard.press("Enter")
        viewer = page.get_by_role("dialog")
        await expect(viewer.get_by_role("heading")).to_have_text("river.jpg")
        # In a right-to-left page the next material is to the left.
        await page.keyboard.press("ArrowLeft")
        await expect(viewer.get_by_role("heading")).to_have_text("bridge.png")
        await expect(viewer.get_by_role("link", name="تنزيل")).to_be_visible()
        await check_screen(page, "65-materials-viewer-arabic-phone")
        await page.keyboard.press("Escape")
        await expect(viewer).to_have_count(0)
    finally:
        await context.close()


async def test_the_teacher_in_italian_at_laptop_and_phone_sizes(
    browser: Browser, site: Site
) -> None:
    """The overview, an album and the viewer pass axe at both sizes, and the viewer steps by
    keyboard (left to right here)."""
    context = await new_context(browser, site, locale="it-IT")
    page = await context.new_page()
    try:
        await sign_in(page, *site.teacher)
        for width, height in ((1366, 768), (375, 667)):
            await page.set_viewport_size({"width": width, "height": height})
            await open_room(page, site, "materials")
            await expect(page.get_by_role("heading", name="Album e cartelle")).to_be_visible()
            await check_screen(page, f"66-materials-italian-{width}")
            await no_sideways_scrolling(page)
            await open_room(page, site, f"materials/{await _album_id(site)}")
            await expect(page.locator(".material-tile")).to_have_count(2)
            await check_screen(page, f"67-album-italian-{width}")
            await no_sideways_scrolling(page)
            await page.locator(".material-tile .tile-open").first.focus()
            await page.keyboard.press("Enter")
            viewer = page.get_by_role("dialog")
            await expect(viewer.get_by_role("heading")).to_have_text("river.jpg")
            await page.keyboard.press("ArrowRight")
            await expect(viewer.get_by_role("heading")).to_have_text("bridge.png")
            # The pupil's own upload still waits: the teacher may approve it from here.
            await expect(viewer.get_by_role("button", name="Approva")).to_be_visible()
            await check_screen(page, f"68-viewer-italian-{width}")
            await page.keyboard.press("Escape")
            await expect(viewer).to_have_count(0)
        # The teacher puts the photo after the pupil's, then gives it a title, by keyboard.
        tiles = page.locator(".material-tile .tile-title")
        await page.get_by_role("group", name="river.jpg").get_by_role("button", name="Dopo").focus()
        await page.keyboard.press("Enter")
        await expect(tiles).to_have_text(["bridge.png", "river.jpg"])
        await page.locator(".material-tile .tile-open").nth(1).focus()
        await page.keyboard.press("Enter")
        await page.get_by_role("dialog").get_by_role("button", name="Rinomina").focus()
        await page.keyboard.press("Enter")
        await page.keyboard.type("Il fiume Tevere")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Tab")
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("dialog").get_by_role("heading")).to_have_text(
            "Il fiume Tevere"
        )
        await page.keyboard.press("Escape")
        await expect(tiles).to_have_text(["bridge.png", "Il fiume Tevere"])
    finally:
        await context.close()


async def _album_id(site: Site) -> int:
    overview = await site.live.http.get(
        f"/api/projects/{site.project_id}/materials",
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    return next(c["id"] for c in overview.json()["collections"] if c["title"] == "Our river")


async def test_a_reloaded_page_continues_the_same_file_where_the_server_stands(
    pupil: Page, site: Site, tmp_path: Path
) -> None:
    """The upload's address is kept for the tab: the page reloads mid-upload (a crash, a
    closed lid on a phone), the pupil picks the same file again, and it continues."""
    data = big_zip()
    path = tmp_path / "survey.zip"
    path.write_bytes(data)
    offsets: list[int] = []
    reloaded = False

    async def cut_after_the_first_patch(route: Route) -> None:
        if route.request.method != "PATCH":
            await route.continue_()
            return
        offsets.append(int(route.request.headers["upload-offset"]))
        if len(offsets) > 1 and not reloaded:
            await route.abort("failed")
            return
        await route.continue_()

    await pupil.route("**/uploads/*", cut_after_the_first_patch)
    folder = next(
        c["id"]
        for c in (
            await site.live.http.get(
                f"/api/projects/{site.project_id}/materials",
                headers={"Authorization": f"Bearer {site.teacher_token}"},
            )
        ).json()["collections"]
        if c["title"] == "Measurements"
    )
    await open_room(pupil, site, f"materials/{folder}")
    await pupil.get_by_label("I made this myself").check()
    await pupil.get_by_label("Choose files").set_input_files(path)
    row = pupil.locator(".upload-row", has_text="survey.zip")
    await expect(row.locator("progress")).not_to_have_attribute("value", "0")
    await eventually(lambda: len(offsets) >= 2)
    reloaded = True
    await pupil.reload()
    await open_room(pupil, site, f"materials/{folder}")
    before = len(offsets)
    await pupil.get_by_label("I made this myself").check()
    await pupil.get_by_label("Choose files").set_input_files(path)
    await expect(pupil.locator(".upload-row.state-done", has_text="survey.zip")).to_have_count(1)
    await pupil.unroute("**/uploads/*")
    # After the reload it went on from the server's offset, not from the first byte.
    assert offsets[before] > 0, offsets
    uploaded = await site.live.http.get(
        f"/api/projects/{site.project_id}/materials/review",
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    found = next(m for m in uploaded.json()["materials"] if m["filename"] == "survey.zip")
    stored = await site.live.http.get(
        f"/api/projects/{site.project_id}/materials/{found['id']}/file",
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    assert hashlib.sha256(stored.content).digest() == hashlib.sha256(data).digest()


async def test_refusals_are_said_in_words(pupil: Page, site: Site) -> None:
    """A page of HTML named like a photo is refused after processing (sniffed from its
    bytes), and a photo over the album's limit before a byte is sent; both say why."""
    await open_room(pupil, site, "materials")
    await pupil.get_by_role("link", name="Our river").click()
    await pupil.get_by_label("I made this myself").check()
    picker = pupil.get_by_label("Choose photos")
    await picker.set_input_files(
        {"name": "trick.jpg", "mimeType": "image/jpeg", "buffer": b"<html><script>1</script>"}
    )
    trick = pupil.locator(".upload-row", has_text="trick.jpg")
    await expect(trick.locator(".upload-state")).to_contain_text(
        "Not accepted. This kind of file is not accepted here"
    )
    await picker.set_input_files(
        {"name": "huge.jpg", "mimeType": "image/jpeg", "buffer": b"\xff" * (10 * 1000**2 + 1)}
    )
    huge = pupil.locator(".upload-row", has_text="huge.jpg")
    await expect(huge.locator(".upload-state")).to_contain_text(
        "This file is too big for this album or folder"
    )
    await check_screen(pupil, "69-materials-refusals")
    for row in (trick, huge):
        await row.get_by_role("button", name="Remove from the list").click()
    await expect(pupil.locator(".upload-row", has_text="huge.jpg")).to_have_count(0)


async def test_an_upload_pauses_and_resumes(pupil: Page, site: Site) -> None:
    """Pause while the second PATCH is on its way, then Resume: it finishes, whole."""
    data = big_zip()
    held = asyncio.Event()
    released = asyncio.Event()
    offsets: list[int] = []

    async def hold_the_second_patch(route: Route) -> None:
        if route.request.method != "PATCH":
            await route.continue_()
            return
        offsets.append(int(route.request.headers["upload-offset"]))
        if len(offsets) == 2:
            held.set()
            await released.wait()
            with contextlib.suppress(Exception):  # the paused client already gave it up
                await route.abort("aborted")
            return
        await route.continue_()

    await pupil.route("**/uploads/*", hold_the_second_patch)
    await open_room(pupil, site, "materials")
    await pupil.get_by_role("link", name="Measurements").click()
    await pupil.get_by_label("I made this myself").check()
    await pupil.get_by_label("Choose files").set_input_files(
        {"name": "paused.zip", "mimeType": "application/zip", "buffer": data}
    )
    row = pupil.locator(".upload-row", has_text="paused.zip")
    async with asyncio.timeout(WAIT):
        await held.wait()
    await row.get_by_role("button", name="Pause").click()
    await expect(row).to_have_class("upload-row state-paused")
    released.set()
    await row.get_by_role("button", name="Resume").click()
    await expect(row).to_have_class("upload-row state-done")
    await pupil.unroute("**/uploads/*")
    assert offsets[2] > 0, offsets  # resumed from the server's offset
    queue = await site.live.http.get(
        f"/api/projects/{site.project_id}/materials/review",
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    found = next(m for m in queue.json()["materials"] if m["filename"] == "paused.zip")
    assert found["size"] == len(data)
