"""The local production shape (`make cluster`), end to end over TLS: Caddy's internal CA trusted
by the clients, two nodes behind it. A teacher and a pupil in Chromium, each on their own node,
write together, share a photo and see each other on video; then a rolling restart loses nothing.
The cluster itself (`cluster` fixture) is in `conftest.py`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    _require_tools,
    check_screen,
    image_shown,
    sign_in,
)
from tests.browser.test_documents_ui import write_at_end
from tests.browser.test_video_ui import FAKE_MEDIA_ARGS, TRACK_PEERS, frames_arrive
from tests.deploy.conftest import Cluster, ClusterRoom, cluster_room
from tests.deploy.restart_load import (
    Entry,
    Load,
    read_words,
    send_chat,
    type_words,
    watch_chat,
    words,
)
from tests.materials.support import gps_photo
from tests.support.room import PASSWORD
from tests.support.waiting import WAIT


def _pinned_keys(ca_root: Path) -> str:
    """Chromium's `--ignore-certificate-errors-spki-list` value for Caddy's internal CA (its root
    and the intermediate that signs the sites): Chromium still checks the chain, the names and
    the dates; only the trust anchor is this cluster's own, as an installed root would be."""
    hashes = []
    for name in ("root.crt", "intermediate.crt"):
        certificate = x509.load_pem_x509_certificate((ca_root.parent / name).read_bytes())
        key = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
        hashes.append(base64.b64encode(hashlib.sha256(key).digest()).decode())
    return ",".join(hashes)


@pytest.fixture
async def tls_browser(cluster: Cluster) -> AsyncIterator[Browser]:
    _require_tools()
    trust = f"--ignore-certificate-errors-spki-list={_pinned_keys(cluster.ca_root)}"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, *FAKE_MEDIA_ARGS, trust]
        )
        yield launched
        await launched.close()


async def _person(browser: Browser, entry: str, username: str) -> Page:
    """Signed in through one node's entry point, over https and wss, with a fake camera."""
    context = await browser.new_context(
        base_url=entry, locale="en-GB", viewport={"width": 1366, "height": 768}
    )
    context.set_default_timeout(WAIT * 1000)
    await context.grant_permissions(["camera", "microphone"])
    await context.add_init_script(TRACK_PEERS)
    page = await context.new_page()
    await sign_in(page, username, PASSWORD)
    assert await page.evaluate("location.protocol") == "https:"
    return page


async def _say(page: Page, text: str) -> None:
    box = page.locator(".composer textarea")
    await box.fill(text)
    await box.press("Enter")


async def _room(page: Page, room: ClusterRoom, view: str) -> None:
    await page.goto(f"/#/p/{room.project_id}/{view}")
    await expect(page.locator(".banner.link-connecting, .banner.link-offline")).to_have_count(0)


async def test_a_teacher_and_a_pupil_in_chromium_on_two_nodes_over_tls(
    cluster: Cluster, tls_browser: Browser
) -> None:
    room = await cluster_room(cluster, "Rivers", pupils=2)
    teacher = await _person(tls_browser, cluster.entries["1"], room.teacher)
    pupil = await _person(tls_browser, cluster.entries["2"], room.pupils[0][0])
    other = await _person(tls_browser, cluster.entries["2"], room.pupils[1][0])
    for page in (teacher, pupil, other):
        await _room(page, room, "chat/general")
    # The teacher's hub socket is on node 1, the pupils' on node 2: what one side does reaches
    # the other through Redis.
    node1, node2 = cluster.node_ports["1"], cluster.node_ports["2"]
    assert (await _hub_sockets(node1), await _hub_sockets(node2)) == (1, 2)

    # Chat, both ways across the nodes.
    await _say(teacher, "Bom dia! Today: the river.")
    await _say(other, "Dzień dobry from node 2")
    for page in (teacher, pupil, other):
        for text in ("Bom dia! Today: the river.", "Dzień dobry from node 2"):
            await expect(
                page.locator(".message:not(.pending) .text", has_text=text)
            ).to_be_visible()
    await check_screen(other, "90-cluster-pupil-chat-tls")
    await _room(teacher, room, "documents")

    # Co-writing one document (the Yjs socket goes through Caddy too).
    await teacher.get_by_label("Title of the new document").fill("Our river")
    await teacher.get_by_role("button", name="Create document").click()
    await expect(teacher.locator(".doc-link.link-synced")).to_be_visible()
    await pupil.locator(".room-nav").get_by_role("link", name="Documents").click()
    await pupil.get_by_role("link", name="Our river").click()
    await expect(pupil.locator(".doc-link.link-synced")).to_be_visible()
    await teacher.locator(".doc-body").click()
    await teacher.keyboard.type("It starts in the hills")
    await expect(pupil.locator(".doc-body")).to_contain_text("It starts in the hills")
    await write_at_end(pupil, "and passes our school")
    await expect(teacher.locator(".doc-body")).to_contain_text("and passes our school")

    # A photo: uploaded with tus through Caddy into S3, its thumbnail seen by the pupil.
    await _room(teacher, room, "materials")
    await teacher.get_by_label("Kind").select_option("album")
    await teacher.get_by_label("Title").fill("The river")
    await teacher.get_by_role("button", name="Create").click()
    await teacher.get_by_role("link", name="The river").click()
    await teacher.get_by_label("I made this myself").check()
    await teacher.get_by_label("Choose photos").set_input_files(
        {"name": "bridge.jpg", "mimeType": "image/jpeg", "buffer": gps_photo((640, 480))}
    )
    await expect(teacher.locator(".upload-row.state-done")).to_have_count(1)
    await _room(pupil, room, "materials")
    await pupil.get_by_role("link", name="The river").click()
    thumb = pupil.locator(".material-tile", has_text="bridge.jpg").locator("img.thumb")
    assert (await image_shown(thumb))[0] > 0
    await check_screen(pupil, "91-cluster-pupil-album-tls")

    # Video: signalled across the two nodes, media between the pages (STUN/TURN: coturn).
    await _room(teacher, room, "video")
    await _room(pupil, room, "video")
    await _room(other, room, "video")
    await teacher.get_by_role("button", name="Start a video session").click()
    await pupil.get_by_role("button", name="Join the video session").click()
    await other.get_by_role("button", name="Join the video session").click()
    for page in (teacher, pupil, other):
        await expect(page.locator(".video-grid .tile")).to_have_count(3)
        await frames_arrive(page)
    await check_screen(teacher, "92-cluster-teacher-video-tls")
    await teacher.get_by_role("button", name="End the session for everyone").click()
    await expect(pupil.get_by_text("No video session is running.")).to_be_visible()
    for page in (teacher, pupil, other):
        await page.context.close()
    # The cluster is the module's: the next test counts sockets from zero.
    for port in (node1, node2):
        await _no_hub_sockets(port)


async def _hub_sockets(port: int) -> int:
    """How many hub sockets a node holds, from its own /metrics (asked directly, not via
    Caddy): which node took a socket is seen there, not guessed from the proxy."""
    async with httpx.AsyncClient(timeout=WAIT) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    for line in text.splitlines():
        if line.startswith('twinspace_sockets_open{kind="hub"}'):
            return int(float(line.split()[-1]))
    return 0


async def _no_hub_sockets(port: int) -> None:
    async with asyncio.timeout(WAIT):
        while await _hub_sockets(port):
            await asyncio.sleep(0.1)


async def test_rolling_restarts_under_chat_and_yjs_load_lose_nothing(cluster: Cluster) -> None:
    room = await cluster_room(cluster, "Across", pupils=2)
    (bea, bea_token), (_, jan_token) = room.pupils
    async with httpx.AsyncClient(base_url=cluster.url, verify=cluster.tls, timeout=WAIT) as http:
        teacher = {"Authorization": f"Bearer {room.teacher_token}"}
        made = await http.post(
            f"/api/projects/{room.project_id}/docs",
            json={"name": "story", "title": "Story", "kind": "text"},
            headers=teacher,
        )
        assert made.status_code == 201, made.text
    # Clients start pinned to one node or the other; after any close they come back through
    # Caddy's one address, which sends them to a node that is up.
    one = Entry(cluster.entries["1"], cluster.url, cluster.tls)
    two = Entry(cluster.entries["2"], cluster.url, cluster.tls)
    load = Load()
    pid = room.project_id
    running = [
        asyncio.create_task(work)
        for work in (
            send_chat(load, one, pid, room.teacher_token, "teacher"),
            send_chat(load, two, pid, bea_token, "bea"),
            send_chat(load, one, pid, jan_token, "jan"),
            watch_chat(load, two, pid, jan_token),
            type_words(load, one, pid, "story", bea_token),
            read_words(load, two, pid, "story", room.teacher_token),
        )
    ]
    try:
        await load.moved_on(messages=20, words=50)
        for node in ("1", "2"):
            code, output = await cluster.run("restart", node)
            assert code == 0, f"{output}\n{cluster.logs()}"
            await load.moved_on(messages=20, words=50)
        load.stop.set()
        async with asyncio.timeout(WAIT * 2):
            await asyncio.gather(*running)
    finally:
        for task in running:
            task.cancel()
    async with httpx.AsyncClient(base_url=cluster.url, verify=cluster.tls, timeout=WAIT) as http:
        got = await http.get(
            f"/api/projects/{pid}/docs/{made.json()['id']}/content?format=text",
            headers=teacher,
        )
        assert got.status_code == 200, got.text
    stored = Counter(words(got.text))

    print(
        f"\nrolling restart: acknowledged={len(load.acked)} watched={len(load.watched)}"
        f" typed={len(load.typed)} relayed={len(load.relayed)} stored_words={len(stored)}"
        f" reconnects={load.reconnects} closes={dict(load.closes)}"
    )
    # Every client was closed by a stopping node with 1001 (none otherwise), and came back.
    assert set(load.closes) == {1001} and load.closes[1001] >= 6, load.closes
    # Chat: every acknowledged message reached the watcher, in order, once.
    assert load.watched == sorted(set(load.watched)), "a message received twice or out of order"
    assert set(load.acked.values()) <= set(load.watched), "acknowledged messages never arrived"
    # Yjs: every relayed word is stored (stored before relayed), and none twice.
    assert load.relayed <= set(stored), sorted(load.relayed - set(stored))[:10]
    assert [w for w, n in stored.items() if n > 1] == []
