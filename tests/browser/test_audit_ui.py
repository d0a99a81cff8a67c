"""The audit log read as sentences in the reader's language (issue 17): a mute for ten minutes,
its lifting, and a video session, in Danish and Arabic; never a raw code like `video.mute`."""

from __future__ import annotations

import re

from playwright.async_api import Browser, expect

from tests.browser.conftest import Site, check_screen, new_context, sign_in
from tests.support.live import HubClient

SENTENCES = {
    "da": [
        "Ana satte {pupil} på pause i 10 minutter.",
        "Ana ophævede pausen for {pupil}.",
        "Ana satte {pupil} på pause i en dag.",
        "Ana startede en videosession.",
        "Ana afsluttede videosessionen.",
    ],
    "ar": [
        "أوقف Ana رسائل {pupil} لمدة 10 دقائق.",
        "رفع Ana الإيقاف عن {pupil}.",
        "أوقف Ana رسائل {pupil} لمدة يوم واحد.",
        "بدأ Ana جلسة فيديو.",
        "أنهى Ana جلسة الفيديو.",
    ],
}


async def test_audit_entries_are_sentences_in_danish_and_arabic(
    browser: Browser, site: Site
) -> None:
    hub = await HubClient.connect(site.live.url, site.project_id, site.teacher_token)
    try:
        ids = await site.live.http.get(
            f"/api/projects/{site.project_id}/members",
            headers={"Authorization": f"Bearer {site.teacher_token}"},
        )
        members = ids.json()["members"]
        [pupil_id] = [m["user_id"] for m in members if m["display_name"] == site.pupil[2]]
        for minutes in (10, 0, 1440, 0):
            await hub.ok("chat.mute", user_id=pupil_id, minutes=minutes)
        await hub.ok("rtc.start")
        await hub.ok("rtc.end")
    finally:
        await hub.close()
    for language, sentences in SENTENCES.items():
        context = await new_context(browser, site, locale=language)
        page = await context.new_page()
        await sign_in(page, *site.teacher)
        await page.goto(f"/#/p/{site.project_id}/audit")
        table = page.locator("table tbody")
        for sentence in sentences:
            text = sentence.format(pupil=site.pupil[2])
            await expect(table.locator("td", has_text=text).first).to_be_visible()
        # No entry shows a raw action code or a `key: value` detail.
        cells = await table.locator("td:nth-child(2)").all_inner_texts()
        assert cells and not [c for c in cells if re.search(r"\b[a-z_]+\.[a-z_]+\b|: \d", c)]
        await check_screen(page, f"audit-sentences-{language}")
        await context.close()
