"""The teacher administrator's privacy screens in Chromium: a pupil's export downloaded, the
retention settings saved with their dry run, and the pupil erased (docs/PRIVACY.md)."""

from __future__ import annotations

import io
import zipfile

from playwright.async_api import Page, expect

from tests.browser.conftest import Site, check_screen


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
