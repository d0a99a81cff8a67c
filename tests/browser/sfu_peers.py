"""aiortc pupils beside the SFU browser test's pages: each a hub socket of its own (the server's
real WebSocket, in the test's process) and an aiortc media peer inside the test's namespace, on
Janus's address there (`tests/support/sfu_peer.py`), as the Chromium pages are. They join, publish
and subscribe through the hub exactly as tests/video/test_sfu_class.py's pupils do, so a page and
a peer meet only through the server and Janus."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from tests.support.janus_browser import BrowserNet
from tests.support.live import HubClient, Live
from tests.support.room import bearer, settle_password
from tests.support.sfu_peer import SfuPeer
from tests.video.sfu_support import flowing, publish, subscribe

# The peers' camera: small blank frames (two peers encode, and decode three pages, on 2 cores).
PEER_CAMERA = (160, 120)


@dataclass
class PeerPupil:
    name: str
    client: HubClient
    peer: SfuPeer
    participant_id: int = 0


@asynccontextmanager
async def peer_pupils(
    live: Live, project_id: int, headers: dict[str, str], net: BrowserNet, names: list[str]
) -> AsyncIterator[list[PeerPupil]]:
    """New pupils of the project, each connected to its room, with a media peer started (not
    yet in the call); sockets and peers are closed at the end, however it ends."""
    async with AsyncExitStack() as stack:
        made = []
        for name in names:
            created = await live.http.post(
                f"/api/projects/{project_id}/pupils", json={"display_name": name}, headers=headers
            )
            assert created.status_code == 201, created.text
            user_id = created.json()["pupils"][0]["user_id"]
            await settle_password(live.services, user_id)
            token = bearer(live.services, user_id)["Authorization"].removeprefix("Bearer ")
            client = await HubClient.connect(live.url, project_id, token)
            stack.push_async_callback(client.close)
            # The namespace is the pages' and Janus's: any of its instances names it.
            peer = await SfuPeer.start(net.januses[0], address=net.inner_address)
            stack.push_async_callback(peer.close)
            made.append(PeerPupil(name, client, peer))
        yield made


async def take_seat(pupil: PeerPupil) -> list[int]:
    """Joins the running session with camera and microphone on, shown in a call to those
    present (as a page does), and publishes them; the others seated when it joined."""
    await pupil.client.ok("presence.update", location={"kind": "video"})
    joined = await pupil.client.ok("rtc.join")
    assert joined["state"] == "joined", joined
    pupil.participant_id = joined["participant_id"]
    await pupil.client.ok("rtc.media", mic=True, camera=True)
    await publish(pupil.client, pupil.peer, PEER_CAMERA)
    return [
        p["participant_id"]
        for p in joined["session"]["participants"]
        if p["state"] == "joined" and p["participant_id"] != pupil.participant_id
    ]


async def receives(pupil: PeerPupil, feed: int) -> None:
    """Subscribes to a page's camera at its smallest layer (the peer decodes in software) and
    waits for its video and its sound to flow."""
    name = f"feed {feed}"
    subscription = await subscribe(pupil.client, pupil.peer, feed, name)
    await pupil.client.ok("rtc.layer", subscription=subscription, substream=0)
    await flowing(pupil.peer, name, "video")
    await flowing(pupil.peer, name, "audio")
