"""The teacher administrator's privacy screens in Chromium: a pupil's export downloaded, the
retention settings saved with their dry run, and the pupil erased (docs/PRIVACY.md)."""

from __future__ import annotations

import io
import zipfile

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import Site, check_screen, new_context, sign_in
from tests.support.room import PASSWORD, add_teacher, bearer


async def test_a_teacher_admin_exports_then_erases_a_pupil(teacher: Page, site: Site) -> None:
    made = await site.live.http.post(
        f"/api/projects/{site.project_id}/pupils",
        json={"display_name": "Mira Kessel"},
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    assert made.status_code == 201, made.text
    await teacher.goto(f"/#/p/{site.project_id}/admin")
    await expect(teacher.get_by_role("heading", name="Privacy and retention")).to_be_visible()
    await check_screen(teacher, "privacy-01-admin")

    await teacher.get_by_role("button", name="Export data of Mira Kessel").click()
    await expect(teacher.get_by_text("The export of Mira Kessel is ready.")).to_be_visible()
    async with teacher.expect_download() as waiting:
        await teacher.get_by_role("button", name="Download (ZIP)").click()
    download = await waiting.value
    path = await download.path()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        assert "index.html" in archive.namelist()
        assert "Mira Kessel" in archive.read("account/users.json").decode()

    await teacher.get_by_label("Delete chat messages after (days)").fill("90")
    await teacher.get_by_role("button", name="Save").click()
    await expect(teacher.get_by_text("Saved.")).to_be_visible()
    await teacher.get_by_role("button", name="What will the next run remove?").click()
    await expect(teacher.get_by_text("The next run removes 0 chat messages")).to_be_visible()
    await check_screen(teacher, "privacy-02-retention")

    await teacher.get_by_role("button", name="Erase Mira Kessel").click()
    await teacher.get_by_role("dialog").get_by_role("button", name="Erase").click()
    await expect(teacher.get_by_text("Mira Kessel is being erased.")).to_be_visible()
    await expect(teacher.locator("tbody th", has_text="Mira Kessel")).to_have_count(0)


async def test_a_teacher_exports_then_erases_their_own_account(
    browser: Browser, site: Site
) -> None:
    """Issue 19: "My data" for a teacher, in Danish; a last administrator is refused first."""
    user_id = await add_teacher(site.live.services, "birgit", "DK")
    headers = bearer(site.live.services, user_id)
    made = await site.live.http.post("/api/projects", json={"name": "Birgit's"}, headers=headers)
    assert made.status_code == 201, made.text
    context = await new_context(browser, site, locale="da-DK")
    page = await context.new_page()
    await sign_in(page, "birgit", PASSWORD)
    await page.get_by_role("link", name="Mine data").click()
    await expect(page.get_by_role("heading", name="Mine data", level=1)).to_be_visible()
    await check_screen(page, "privacy-03-my-data-da")

    await page.get_by_role("button", name="Eksportér mine data").click()
    await expect(page.get_by_text("Din eksport er klar.")).to_be_visible()
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Hent (ZIP)").click()
    path = await (await waiting.value).path()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        assert "birgit" in archive.read("account/users.json").decode()

    # Birgit is her project's only administrator: the erasure is refused, saying why.
    await page.get_by_role("button", name="Slet min konto").click()
    await page.get_by_role("dialog").get_by_role("button", name="Slet min konto").click()
    await expect(page.get_by_role("alert")).to_have_text(
        "Projektet skal have mindst én administrerende lærer."
    )
    # Ana becomes an administrator too; then Birgit may go.
    invited = await site.live.http.post(
        f"/api/projects/{made.json()['id']}/members",
        json={"username": "ana", "role": "teacher_admin"},
        headers=headers,
    )
    assert invited.status_code == 201, invited.text
    await page.get_by_role("button", name="Slet min konto").click()
    await page.get_by_role("dialog").get_by_role("button", name="Slet min konto").click()
    await expect(page.get_by_text("Din konto bliver slettet. Du er logget ud.")).to_be_visible()
    await expect(page.locator("input[name=username]")).to_be_visible()
    await context.close()
    # The account's tokens ended: the API says so.
    mine = await site.live.http.get("/api/projects", headers=headers)
    assert mine.status_code == 401, mine.text


async def test_a_pupil_has_no_my_data_screen(pupil: Page, site: Site) -> None:
    await pupil.goto("/#/projects")
    await expect(pupil.get_by_role("link", name="Change my password")).to_be_visible()
    await expect(pupil.get_by_role("link", name="My data")).to_have_count(0)
