"""Sign-in as a class meets it (issue 17), in Debian's Chromium against the real server: a
pupil's typing mistakes do not lock the teacher out, the message says how many minutes, the
teacher unlocks the pupil, and the printed one-time password must be replaced at once."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.browser.conftest import Site, check_screen, new_context, sign_in
from tests.support.room import PASSWORD

PLURAL_RULE = {
    "en": "At least 8 characters.",
    "ar": "8 أحرف على الأقل.",
    "tr": "En az 8 karakter.",
    "it": "Almeno 8 caratteri.",
    "ca": "Almenys 8 caràcters.",
    "da": "Mindst 8 tegn.",
}


async def _new_pupil(site: Site, name: str) -> tuple[int, str, str]:
    made = await site.live.http.post(
        f"/api/projects/{site.project_id}/pupils",
        json={"display_name": name},
        headers={"Authorization": f"Bearer {site.teacher_token}"},
    )
    assert made.status_code == 201, made.text
    pupil = made.json()["pupils"][0]
    return pupil["user_id"], pupil["username"], pupil["password"]


async def _try(page: Page, username: str, password: str) -> None:
    await page.goto("/")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(password)
    await page.locator("form.login button[type=submit]").click()


async def test_the_teacher_signs_in_after_a_pupils_failures_and_unlocks_the_pupil(
    browser: Browser, site: Site
) -> None:
    _, username, printed = await _new_pupil(site, "Tomás Typo")
    context = await new_context(browser, site)
    desk = await context.new_page()
    for _ in range(5):
        await _try(desk, username, "wrong guess")
        await expect(desk.get_by_role("alert")).to_have_text(
            "That username or password is not right."
        )
    await _try(desk, username, printed)
    await expect(desk.get_by_role("alert")).to_have_text(
        "Too many wrong tries. Try again in 1 minute, or ask your teacher to unlock you."
    )
    await check_screen(desk, "40-sign-in-wait")
    # The teacher at the next desk, behind the same address, signs in...
    teacher_context = await new_context(browser, site)
    teacher = await teacher_context.new_page()
    await sign_in(teacher, *site.teacher)
    # ...and unlocks the pupil from the room's administration.
    await teacher.goto(f"/#/p/{site.project_id}/admin")
    row = teacher.get_by_role("row").filter(has_text="Tomás Typo")
    await row.get_by_role("button", name="Unlock sign-in").click()
    await expect(row.get_by_role("button", name="Tomás Typo can sign in again now")).to_be_visible()
    await _try(desk, username, printed)
    await expect(desk.get_by_role("heading", name="Choose your own password")).to_be_visible()
    await teacher_context.close()
    await context.close()


async def test_the_printed_password_must_be_replaced_first(browser: Browser, site: Site) -> None:
    _, username, printed = await _new_pupil(site, "Lina Neu")
    context = await new_context(browser, site)
    page = await context.new_page()
    await _try(page, username, printed)
    await expect(page.get_by_role("heading", name="Choose your own password")).to_be_visible()
    await expect(page.get_by_label("Password from your sheet")).to_be_focused()
    await check_screen(page, "41-first-password")
    # Nothing else opens until then: the room's address shows the same form.
    await page.goto(f"/#/p/{site.project_id}/chat/general")
    await expect(page.get_by_role("heading", name="Choose your own password")).to_be_visible()
    await page.get_by_label("Password from your sheet").fill(printed)
    await page.get_by_label("New password", exact=True).fill("my own secret")
    await page.get_by_label("New password again").fill("not the same")
    await page.get_by_role("button", name="Save my new password").click()
    await expect(page.get_by_role("alert")).to_have_text("The two new passwords are not the same.")
    await page.get_by_label("New password again").fill("my own secret")
    await page.get_by_role("button", name="Save my new password").click()
    await expect(page.get_by_role("link", name="Water Stories")).to_be_visible()
    # The sheet's password no longer opens the account; the new one does.
    await page.get_by_role("button", name="Sign out").click()
    await _try(page, username, printed)
    await expect(page.get_by_role("alert")).to_have_text("That username or password is not right.")
    await sign_in(page, username, "my own secret")
    await context.close()


async def test_everyone_can_change_their_password(browser: Browser, site: Site) -> None:
    _, username, printed = await _new_pupil(site, "Ole Skift")
    context = await new_context(browser, site)
    page = await context.new_page()
    await _try(page, username, printed)
    await page.get_by_label("Password from your sheet").fill(printed)
    await page.get_by_label("New password", exact=True).fill(PASSWORD)
    await page.get_by_label("New password again").fill(PASSWORD)
    await page.get_by_role("button", name="Save my new password").click()
    await expect(page.get_by_role("link", name="Water Stories")).to_be_visible()
    await page.get_by_role("link", name="Change my password").click()
    await expect(page.get_by_role("heading", name="Change my password")).to_be_visible()
    await page.get_by_label("Current password").fill(PASSWORD)
    await page.get_by_label("New password", exact=True).fill("another secret")
    await page.get_by_label("New password again").fill("another secret")
    await page.get_by_role("button", name="Save my new password").click()
    await expect(page.get_by_role("status")).to_have_text("Your new password is saved.")
    await check_screen(page, "42-change-password")
    await context.close()


async def test_a_plural_in_each_language(browser: Browser, site: Site) -> None:
    """Counted words follow each language's plural rules (Arabic's 3-10 take the "few" form)."""
    _, username, printed = await _new_pupil(site, "Plural Probe")
    context = await new_context(browser, site)
    page = await context.new_page()
    await _try(page, username, printed)
    await expect(page.locator(".password-form")).to_be_visible()
    for code, text in PLURAL_RULE.items():
        await page.locator("select").first.select_option(code)
        await expect(page.locator(".password-form .hint").last).to_have_text(text)
        if code == "ar":
            await check_screen(page, "43-first-password-ar")
    await context.close()
