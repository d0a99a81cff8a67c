"""The teacher administrator's privacy screens in Chromium: a pupil's export downloaded and
sign-ins read, the retention settings saved with their dry run, and the pupil erased; every
account's own login history on "My data" (docs/PRIVACY.md)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import update
from sqlmodel import SQLModel

from tests.browser.conftest import (
    Site,
    check_screen,
    new_context,
    no_sideways_scrolling,
    sign_in,
)
from tests.support.room import PASSWORD, add_teacher, bearer


async def test_a_teacher_admin_exports_then_erases_a_pupil(teacher: Page, site: Site) -> None:
    made = await site.live.http.post(
        f"/api/projects/{site.project_id}/pupils",
        json={"display_name": "Mira Kessel"},
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    assert made.status_code == 201, made.text
    mira = made.json()["pupils"][0]["username"]
    tried = await site.live.http.post(
        "/api/auth/login", json={"username": mira, "password": "wrong"}
    )
    assert tried.status_code == 401
    await teacher.goto(f"/#/p/{site.project_id}/admin")
    await expect(teacher.get_by_role("heading", name="Privacy and retention")).to_be_visible()
    await check_screen(teacher, "privacy-01-admin")
    # Issue 19: on a phone the members' rows with their buttons fit; nothing scrolls sideways.
    await teacher.set_viewport_size({"width": 375, "height": 667})
    try:
        await check_screen(teacher, "privacy-01-admin-375")
        await no_sideways_scrolling(teacher)
    finally:
        await teacher.set_viewport_size({"width": 1280, "height": 860})

    await teacher.get_by_role("button", name="Export data of Mira Kessel").click()
    await expect(teacher.get_by_text("The export of Mira Kessel is ready.")).to_be_visible()
    async with teacher.expect_download() as waiting:
        await teacher.get_by_role("button", name="Download (ZIP)").click()
    download = await waiting.value
    path = await download.path()
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as archive:
        assert "index.html" in archive.namelist()
        assert "Mira Kessel" in archive.read("account/users.json").decode()

    await teacher.get_by_role("button", name="Sign-ins of Mira Kessel").click()
    logins = teacher.get_by_role("table", name="Sign-ins of Mira Kessel")
    await expect(logins.get_by_role("cell", name="Wrong password")).to_be_visible()

    await teacher.get_by_label("Delete chat messages after (days)").fill("90")
    await teacher.get_by_label("Delete materials after (days)").fill("365")
    await teacher.get_by_label("Delete journal posts after (days)").fill("400")
    await teacher.get_by_role("button", name="Save").click()
    await expect(teacher.get_by_text("Saved.")).to_be_visible()
    # A journal post from long ago: the dry run names it before anything goes.
    posted = await site.live.http.post(
        f"/api/projects/{site.project_id}/journal",
        json={"body": "Our first river walk"},
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    assert posted.status_code == 201, posted.text
    posts = SQLModel.metadata.tables["journal_posts"]
    async with site.live.services.db.transaction() as tx:
        await (await tx.connection()).execute(
            update(posts)
            .where(posts.c.id == posted.json()["id"])
            .values(created_at=datetime.now(UTC) - timedelta(days=500))
        )
    await teacher.get_by_role("button", name="What will the next run remove?").click()
    await expect(
        teacher.get_by_text(
            "The next run removes 0 chat messages, 0 materials, 1 journal post or comment"
        )
    ).to_be_visible()
    listed = teacher.locator(".due-list", has_text="Journal posts and comments that go")
    await expect(listed.get_by_role("listitem")).to_contain_text(["Our first river walk"])
    saved = await site.live.http.get(
        f"/api/projects/{site.project_id}/privacy",
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    assert (saved.json()["materials_days"], saved.json()["journal_days"]) == (365, 400)
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


async def test_a_pupil_reads_their_sign_ins_and_has_no_export_or_erasure(
    pupil: Page, site: Site
) -> None:
    await pupil.goto("/#/projects")
    await pupil.get_by_role("link", name="My data").click()
    logins = pupil.get_by_role("table", name="Sign-ins")
    # The fixture signed in through this browser: Chromium on Linux, from this machine.
    await expect(logins.get_by_role("cell", name="Signed in").first).to_be_visible()
    await expect(logins.get_by_role("cell", name="127.0.0.1").first).to_be_visible()
    await expect(pupil.get_by_role("button", name="Export my data")).to_have_count(0)
    await expect(pupil.get_by_role("button", name="Erase my account")).to_have_count(0)


SIZES = {"phone": {"width": 375, "height": 667}, "laptop": {"width": 1366, "height": 768}}


@pytest.mark.parametrize(("locale", "size"), [("ar", "phone"), ("it", "laptop")])
async def test_sign_ins_by_keyboard_for_a_pupil_and_a_teacher_administrator(
    browser: Browser, site: Site, locale: str, size: str
) -> None:
    """Screenshots to look at, in Arabic on a phone and Italian on a laptop; keyboard alone."""
    texts = {
        "ar": ("بياناتي", "عمليات تسجيل الدخول", "تم تسجيل الدخول", "عمليات تسجيل دخول Inês Costa"),
        "it": ("I miei dati", "Accessi", "Accesso riuscito", "Accessi di Inês Costa"),
    }[locale]
    my_data, title, signed_in, of_pupil = texts
    for who, (username, password) in (
        ("pupil", site.pupil[:2]),
        ("teacher", site.teacher),
    ):
        context = await new_context(browser, site, locale=locale)
        page = await context.new_page()
        await page.set_viewport_size(SIZES[size])
        await sign_in(page, username, password)
        link = page.get_by_role("link", name=my_data)
        await link.focus()
        await page.keyboard.press("Enter")
        table = page.get_by_role("table", name=title)
        await expect(table.get_by_role("cell", name=signed_in).first).to_be_visible()
        await check_screen(page, f"privacy-logins-{who}-{locale}-{size}")
        if who == "teacher":
            await page.goto(f"/#/p/{site.project_id}/admin")
            button = page.get_by_role("button", name=of_pupil)
            await button.focus()
            await page.keyboard.press("Enter")
            pupil_table = page.get_by_role("table", name=of_pupil)
            await expect(pupil_table.get_by_role("cell", name=signed_in).first).to_be_visible()
            await pupil_table.scroll_into_view_if_needed()
            await check_screen(page, f"privacy-logins-of-pupil-{locale}-{size}")
        await context.close()
