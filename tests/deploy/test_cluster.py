"""The local production shape (`make cluster`), end to end over TLS: Caddy's internal CA trusted
by the clients, two nodes behind it. A teacher and two pupils in Chromium, the teacher on one
node and the pupils on the other, write together, share a photo and see each other on video
through Janus; then a rolling restart loses nothing. The cluster itself (`cluster` fixture) is in
`conftest.py`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.async_api import Browser, Page, async_playwright, expect

from signaling.janus import JanusConnection, JanusSession
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    _require_tools,
    check_screen,
    image_shown,
    sign_in,
)
from tests.browser.sfu_pages import decoding, until
from tests.browser.test_documents_ui import write_at_end
from tests.browser.test_video_ui import FAKE_MEDIA_ARGS, TRACK_PEERS
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
from tests.support.live import HubClient
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
    await _hub_sockets_become(node1, 1)
    await _hub_sockets_become(node2, 2)

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

    # Video for the whole class: the session runs on Janus, signalled across the two nodes;
    # each page sends its camera to Janus once and decodes the two others from it, the media
    # crossing the veth pair into Janus's namespace (DTLS-SRTP), the signaling over wss.
    await _room(teacher, room, "video")
    await _room(pupil, room, "video")
    await _room(other, room, "video")
    await teacher.get_by_label("A whole class, each on their own device").check()
    await teacher.get_by_role("button", name="Start a video session").click()
    await pupil.get_by_role("button", name="Join the video session").click()
    await other.get_by_role("button", name="Join the video session").click()
    for page in (teacher, pupil, other):
        await expect(page.locator(".video-stage .tile")).to_have_count(3)
    for page in (teacher, pupil, other):
        await until(page, "the two others decoded through Janus", decoding(2))
    session = await _video_session(cluster, room)
    assert session["topology"] == "sfu", session
    # Janus itself holds the three feeds (a feed's id is its participant's).
    participants = sorted(p["participant_id"] for p in session["participants"])
    assert len(participants) == 3
    assert await _janus_publishers(cluster) == participants
    await check_screen(teacher, "92-cluster-teacher-video-tls")

    # The teacher (node 1) mutes Bea (node 2): node 2, which holds her Janus handles, has Janus
    # stop forwarding her microphone. Her browser still sends (a disabled track sends silence),
    # so what stops at the teacher's page is Janus's doing.
    await _voice(teacher, pupil, "Bea", flowing=True)
    await teacher.get_by_role("button", name="Mute Bea").click()
    await expect(pupil.get_by_text("A teacher turned your microphone off.")).to_be_visible()
    await _voice(teacher, pupil, "Bea", flowing=False)
    await teacher.get_by_role("button", name="End the session for everyone").click()
    await expect(pupil.get_by_text("No video session is running.")).to_be_visible()
    for page in (teacher, pupil, other):
        await page.context.close()
    # The cluster is the module's: the next test counts sockets from zero.
    for port in (node1, node2):
        await _hub_sockets_become(port, 0)


# The page's audio: the packets each open connection receives, the packets it sends, and which
# connection plays in `name`'s tile. (Janus names every subscription's audio track alike, so
# the tile's track object is looked for among each connection's receivers.)
AUDIO = """async (name) => {
  const tile = [...document.querySelectorAll(".video-stage .tile")]
    .find((t) => t.querySelector(".tile-name")?.textContent?.startsWith(name));
  const track = tile?.querySelector("video")?.srcObject?.getAudioTracks()[0] ?? null;
  const received = {};
  let sent = 0, voice = null;
  for (const [i, pc] of (window.__peers ?? []).entries()) {
    if (pc.connectionState === "closed") continue;
    if (track && pc.getReceivers().some((r) => r.track === track)) voice = String(i);
    (await pc.getStats()).forEach((s) => {
      if (s.kind !== "audio") return;
      if (s.type === "inbound-rtp") received[i] = (received[i] ?? 0) + (s.packetsReceived ?? 0);
      if (s.type === "outbound-rtp") sent += s.packetsSent ?? 0;
    });
  }
  return { received, sent, voice };
}"""
# A second of audio (Opus sends a packet every 20 ms): how far the witnesses must move on
# while the muted voice moves not at all.
WITNESS_PACKETS = 50


async def _voice(listener: Page, speaker: Page, name: str, flowing: bool) -> None:
    """`name`'s voice reaches the listener (a second's worth of packets), or, not `flowing`,
    stops reaching it (0 packets) while another voice the listener receives, and what the
    speaker's page sends, each go on by a second's worth: measured against those witnesses,
    not against the clock."""
    grew: dict[str, int] = {}
    voice = None
    try:
        async with asyncio.timeout(WAIT):
            before = await listener.evaluate(AUDIO, name)
            sent_before = await speaker.evaluate(AUDIO, name)
            while True:
                await asyncio.sleep(0.25)
                now = await listener.evaluate(AUDIO, name)
                sent_now = await speaker.evaluate(AUDIO, name)
                voice = now["voice"]
                grew = {k: v - before["received"].get(k, 0) for k, v in now["received"].items()}
                if flowing and grew.get(voice, 0) >= WITNESS_PACKETS:
                    return
                witness = max((n for k, n in grew.items() if k != voice), default=0)
                sending = sent_now["sent"] - sent_before["sent"]
                if not flowing and voice is not None and min(witness, sending) >= WITNESS_PACKETS:
                    if grew.get(voice) == 0:
                        return
                    # The mute may have reached Janus in this window: look at the next one.
                    before, sent_before = now, sent_now
    except TimeoutError:
        state = "flow" if flowing else "stop"
        raise AssertionError(f"{name}'s voice ({voice}) did not {state}: {grew}") from None


async def _video_session(cluster: Cluster, room: ClusterRoom) -> dict[str, Any]:
    """The session as a pupil's node tells it (`rtc.state`), over wss through Caddy."""
    entry = cluster.entries["2"].replace("https://", "wss://")
    url = f"{entry}/ws/projects/{room.project_id}?token={room.pupil_token}"
    client = HubClient(await websockets.connect(url, ssl=cluster.tls))
    try:
        session: dict[str, Any] = (await client.ok("rtc.state"))["session"]
    finally:
        await client.close()
    return session


async def _janus_publishers(cluster: Cluster) -> list[int]:
    """The feeds Janus receives, in every room it holds (its own list, asked on its socket
    with the cluster's admin key: the rooms are private)."""
    assert cluster.janus is not None
    connection = await JanusConnection.open(cluster.janus.socket, cluster.janus.api_secret)
    session = await JanusSession.create(connection, 20)
    try:
        handle = await session.attach()
        listed, _ = await handle.message({"request": "list", "admin_key": cluster.janus.admin_key})
        feeds = []
        for held in listed["list"]:
            found, _ = await handle.message({"request": "listparticipants", "room": held["room"]})
            feeds += [p["id"] for p in found["participants"] if p.get("publisher")]
        return sorted(feeds)
    finally:
        await session.destroy()
        await connection.close()


async def _hub_sockets(port: int) -> int:
    """How many hub sockets a node holds, from its own /metrics (asked directly, not via
    Caddy): which node took a socket is seen there, not guessed from the proxy."""
    async with httpx.AsyncClient(timeout=WAIT) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    for line in text.splitlines():
        if line.startswith('twinspace_sockets_open{kind="hub"}'):
            return int(float(line.split()[-1]))
    return 0


async def _hub_sockets_become(port: int, count: int) -> None:
    """A page's socket is counted once the node has accepted it, which may come after the page
    shows itself connected (Caddy retries an upgrade on a node that is busy)."""
    try:
        async with asyncio.timeout(WAIT):
            while await _hub_sockets(port) != count:
                await asyncio.sleep(0.1)
    except TimeoutError:
        found = await _hub_sockets(port)
        raise AssertionError(f"{found} hub sockets on {port}, not {count}") from None


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
    # Chat: every acknowledged message reached the watcher once (live pushes stored at the same
    # moment on two nodes may come out of seq order: PROTOCOL.md says clients apply them by seq).
    assert len(load.watched) == len(set(load.watched)), "a message received twice"
    assert set(load.acked.values()) <= set(load.watched), "acknowledged messages never arrived"
    # Yjs: every relayed word is stored (stored before relayed), and none twice.
    assert load.relayed <= set(stored), sorted(load.relayed - set(stored))[:10]
    assert [w for w, n in stored.items() if n > 1] == []
