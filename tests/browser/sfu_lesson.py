"""The class of the SFU browser test (`test_sfu_ui.py`): one Chromium and two Janus instances
in a network namespace (tests/support/janus_browser.py), a server on the veth's root end with a
teacher and two pupils, and each person's page. Module-scoped: the test module imports them.
"""

from __future__ import annotations

import asyncio
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, _require_tools, sign_in
from tests.browser.test_video_ui import FAKE_MEDIA_ARGS, TRACK_PEERS
from tests.conftest import _drop_pg_database, _new_pg_database, _pg_url
from tests.support.janus_browser import BrowserNet, browser_net
from tests.support.live import HubClient, Live, serve
from tests.support.room import PASSWORD, add_teacher, bearer, first_sign_in
from tests.support.services import DB_KIND
from tests.support.waiting import WAIT
from twinspace_rt.settings import Settings


@dataclass
class Class:
    live: Live
    project_id: int
    teacher: tuple[str, str]
    pupils: list[tuple[str, str]]  # username, display name
    teacher_headers: dict[str, str]


@pytest.fixture(scope="module")
async def net() -> AsyncIterator[BrowserNet]:
    _require_tools()
    # Two instances: the last test kills the one holding the session.
    async with browser_net(CHROMIUM, count=2) as made:
        yield made


@pytest.fixture(scope="module")
async def lesson(
    net: BrowserNet, pg_template: str | None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Class]:
    data = tmp_path_factory.mktemp("sfu-web")
    pg_name = await _new_pg_database(pg_template) if DB_KIND == "postgres" else None
    url = _pg_url(pg_name) if pg_name else f"sqlite+aiosqlite:///{data / 'twinspace.db'}"
    settings = Settings(
        _env_file=None,
        data_dir=data / "data",
        database_url=url,
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
        web_dir=ROOT / "static" / "dist",
        rtc_janus_socket=",".join(janus.socket_path for janus in net.januses),
        rtc_janus_api_secret=net.januses[0].api_secret,
        rtc_janus_admin_key=net.januses[0].admin_key,
    )
    try:
        async with serve(settings, host=net.server_address) as live:
            teacher_id = await add_teacher(live.services, "ana")
            headers = bearer(live.services, teacher_id)
            made = await live.http.post("/api/projects", json={"name": "Rivers"}, headers=headers)
            assert made.status_code == 201, made.text
            project_id = made.json()["id"]
            pupils = []
            for name in ("Inês Costa", "Rui Matos"):
                created = await live.http.post(
                    f"/api/projects/{project_id}/pupils",
                    json={"display_name": name},
                    headers=headers,
                )
                assert created.status_code == 201, created.text
                pupil = created.json()["pupils"][0]
                await first_sign_in(live.http, pupil["username"], pupil["password"])
                pupils.append((pupil["username"], pupil["display_name"]))
            yield Class(live, project_id, ("ana", PASSWORD), pupils, headers)
    finally:
        if pg_name:
            await _drop_pg_database(pg_name)


@pytest.fixture(autouse=True)
async def no_session_left(lesson: Class) -> AsyncIterator[None]:
    """A test that fails mid-session leaves none running for the next (which starts its own)."""
    yield
    token = lesson.teacher_headers["Authorization"].removeprefix("Bearer ")
    client = await HubClient.connect(lesson.live.url, lesson.project_id, token)
    try:
        await client.request("rtc.end")  # `not_found` when the test ended it
    finally:
        await client.close()


@pytest.fixture(scope="module")
async def chromium(
    net: BrowserNet, lesson: Class, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Browser]:
    # Cameras need a secure context: loopback is one, the veth address is not (a school's
    # server has HTTPS), so Chromium is told to take this one origin as secure.
    secure = f"--unsafely-treat-insecure-origin-as-secure={lesson.live.url}"
    # The pages' microphones send silence (Chromium's own fake one beeps): the only voices in
    # the active-speaker test are the aiortc peers' tones.
    silence = tmp_path_factory.mktemp("sfu-audio") / "silence.wav"
    with wave.open(str(silence), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(48000)
        sound.writeframes(bytes(2 * 48000))
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=net.chromium,
            args=[
                *CHROMIUM_ARGS,
                *FAKE_MEDIA_ARGS,
                secure,
                f"--use-file-for-fake-audio-capture={silence}",
            ],
            headless=True,
        )
        yield launched
        await launched.close()


async def person(
    browser: Browser, lesson: Class, username: str, size: tuple[int, int], locale: str = "en-GB"
) -> Page:
    context = await browser.new_context(base_url=lesson.live.url, locale=locale)
    context.set_default_timeout(WAIT * 1000)
    await context.grant_permissions(["camera", "microphone"])
    await context.add_init_script(TRACK_PEERS)
    page = await context.new_page()
    await page.set_viewport_size({"width": size[0], "height": size[1]})
    await sign_in(page, username, PASSWORD)
    await page.goto(f"/#/p/{lesson.project_id}/video")
    await expect(page.locator("h1")).to_be_visible()
    return page


async def until_locked(lesson: Class, camera: bool) -> None:
    """Until the running session's camera lock, as the server holds it, is ``camera``."""
    token = lesson.teacher_headers["Authorization"].removeprefix("Bearer ")
    client = await HubClient.connect(lesson.live.url, lesson.project_id, token)
    try:
        async with asyncio.timeout(WAIT):
            while True:
                session = (await client.ok("rtc.state"))["session"]
                if session is not None and session["locks"]["camera"] is camera:
                    return
                await asyncio.sleep(0.1)
    finally:
        await client.close()
