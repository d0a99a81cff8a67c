"""A real server and Debian's Chromium for the web client's tests, shared by a module.

Chromium comes from Debian (`make test` installs it); Playwright's own browser download is not
used. The client must be built (`static/dist`) and axe-core installed (`static/node_modules`).
Any of the three missing fails on CI and skips on a laptop.
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import (
    Browser,
    BrowserContext,
    Locator,
    Page,
    async_playwright,
    expect,
)

from tests.conftest import _drop_pg_database, _new_pg_database, _pg_url
from tests.support.live import Live, serve
from tests.support.room import PASSWORD, add_teacher, bearer, first_sign_in
from tests.support.services import DB_KIND, service_missing
from tests.support.waiting import WAIT
from twinspace_rt.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "static" / "dist"
AXE = ROOT / "static" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Every assertion, action and navigation waits up to the suite's bound (tests/support/waiting.py).
expect.set_options(timeout=WAIT * 1000)


@dataclass
class Site:
    """The server and the room the tests play in: a founding teacher and one pupil."""

    live: Live
    project_id: int
    teacher: tuple[str, str]
    pupil: tuple[str, str, str]  # username, password, display name
    observer: tuple[str, str]
    teacher_token: str


def _require_tools() -> None:
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        service_missing("Chromium", f"{CHROMIUM} is missing; `make test` installs it")
    if not (DIST / "index.html").is_file():
        service_missing("The web client build", "static/dist is missing; `make test` builds it")
    if not AXE.is_file():
        service_missing("axe-core", "static/node_modules is missing; `make test` installs it")


@pytest.fixture(scope="module")
async def site(
    pg_template: str | None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Site]:
    _require_tools()
    data = tmp_path_factory.mktemp("web")
    pg_name = await _new_pg_database(pg_template) if DB_KIND == "postgres" else None
    url = _pg_url(pg_name) if pg_name else f"sqlite+aiosqlite:///{data / 'twinspace.db'}"
    settings = Settings(
        _env_file=None,
        data_dir=data / "data",
        database_url=url,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        web_dir=DIST,
        # The scroll-back test writes a long history quickly; the limiter has its own tests.
        chat_rate_per_second=1000,
        chat_rate_burst=1000,
        rest_write_rate_per_second=1000,
        rest_write_burst=1000,
        ws_read_bytes_per_second=1 << 30,
        ws_read_bytes_burst=1 << 30,
    )
    try:
        async with serve(settings) as live:
            teacher_id = await add_teacher(live.services, "ana")
            headers = bearer(live.services, teacher_id)
            made = await live.http.post(
                "/api/projects", json={"name": "Water Stories"}, headers=headers
            )
            assert made.status_code == 201, made.text
            project_id = made.json()["id"]
            pupils = await live.http.post(
                f"/api/projects/{project_id}/pupils",
                json={"display_name": "Inês Costa"},
                headers=headers,
            )
            assert pupils.status_code == 201, pupils.text
            pupil = pupils.json()["pupils"][0]
            # Inês has chosen her own password already (test_accounts_ui.py walks through that).
            await first_sign_in(live.http, pupil["username"], pupil["password"])
            await add_teacher(live.services, "olaf", "DK")
            invited = await live.http.post(
                f"/api/projects/{project_id}/members",
                json={"username": "olaf", "role": "observer"},
                headers=headers,
            )
            assert invited.status_code == 201, invited.text
            yield Site(
                live,
                project_id,
                ("ana", PASSWORD),
                (pupil["username"], PASSWORD, pupil["display_name"]),
                ("olaf", PASSWORD),
                headers["Authorization"].removeprefix("Bearer "),
            )
    finally:
        if pg_name:
            await _drop_pg_database(pg_name)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    _require_tools()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        await launched.close()


@pytest.fixture(scope="module")
async def teacher(browser: Browser, site: Site) -> AsyncIterator[Page]:
    """The founding teacher's page, signed in, for the tests of one module."""
    async for page in signed_in(browser, site, *site.teacher):
        yield page


@pytest.fixture(scope="module")
async def pupil(browser: Browser, site: Site) -> AsyncIterator[Page]:
    async for page in signed_in(browser, site, site.pupil[0], site.pupil[1]):
        yield page


async def signed_in(
    browser: Browser, site: Site, username: str, password: str
) -> AsyncIterator[Page]:
    context = await new_context(browser, site)
    page = await context.new_page()
    await sign_in(page, username, password)
    yield page
    await context.close()


async def new_context(browser: Browser, site: Site, locale: str = "en-GB") -> BrowserContext:
    """A fresh browser profile whose language is `locale` (the client's default language)."""
    context = await browser.new_context(
        base_url=site.live.url, locale=locale, viewport={"width": 1280, "height": 860}
    )
    context.set_default_timeout(WAIT * 1000)
    return context


async def sign_in(page: Page, username: str, password: str) -> None:
    await page.goto("/")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(password)
    await page.locator("form.login button[type=submit]").click()
    await expect(page.locator("a.brand")).to_have_attribute("href", "#/projects")


async def image_shown(image: Locator) -> list[int]:
    """Waits until the `<img>` shows its picture; its natural width and height. The client sets
    `src` once a signed link arrives, and an `<img>` without a source counts as complete: so
    the source is checked too, and a picture that fails to load never passes."""
    await image.page.wait_for_function(
        "(img) => img.currentSrc !== '' && img.complete && img.naturalWidth > 0",
        arg=await image.element_handle(),
        timeout=WAIT * 1000,
    )
    size: list[int] = await image.evaluate("(img) => [img.naturalWidth, img.naturalHeight]")
    return size


async def check_screen(page: Page, name: str) -> None:
    """Zero serious or critical axe-core violations, and a screenshot to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol: the page's CSP refuses inline script tags.
        await page.evaluate(AXE.read_text())
    results: dict[str, Any] = await page.evaluate(
        "axe.run(document, {resultTypes: ['violations']})"
    )
    bad = [v for v in results["violations"] if v["impact"] in ("serious", "critical")]
    report = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in bad
    ]
    assert not bad, f"axe on {name}:\n" + "\n".join(report)


async def no_sideways_scrolling(page: Page) -> None:
    """Nothing is wider than the screen (a phone must not scroll sideways), on either side (a
    right-to-left page overflows to the left), not even inside a scrolling box."""
    wider = await page.evaluate(
        """() => [...document.querySelectorAll("body *")]
            .filter((e) => {
                const box = e.getBoundingClientRect();
                return e.checkVisibility() && (box.right > innerWidth + 1 || box.left < -1);
            })
            .map((e) => e.tagName + "." + e.className)"""
    )
    assert not wider, wider


def unique_text(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def exact(text: str) -> re.Pattern[str]:
    return re.compile(f"^{re.escape(text)}$")
