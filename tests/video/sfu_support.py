"""What the SFU tests share: Janus in its namespace, a server pointed at it, and the steps a
browser's script takes through the hub (publish, subscribe, answer), with questions to Janus
itself (its participant list) and to the media peers (what they received)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from pydantic import SecretStr

from signaling.janus import JanusConnection, JanusSession
from signaling.sfu_rooms import room_of
from signaling.state import running
from tests.chat.test_chat import connect
from tests.support.janus import Janus, running_janus
from tests.support.live import HubClient, Live, serve
from tests.support.room import Room, settle_password
from tests.support.sfu_peer import SfuPeer
from tests.support.waiting import eventually_async
from twinspace_rt.settings import Settings

TEACHER_CAMERA = (160, 120)
PUPIL_CAMERA = (96, 64)


@pytest.fixture
async def janus() -> AsyncIterator[Janus]:
    async with running_janus() as instance:
        yield instance


def with_janus(settings: Settings, janus: Janus) -> Settings:
    return settings.model_copy(
        update={
            "rtc_janus_socket": janus.socket_path,
            "rtc_janus_api_secret": SecretStr(janus.api_secret),
            "rtc_janus_admin_key": SecretStr(janus.admin_key),
        }
    )


@pytest.fixture
async def sfu_live(settings: Settings, janus: Janus) -> AsyncIterator[Live]:
    async with serve(with_janus(settings, janus)) as live:
        yield live


async def publish(
    client: HubClient,
    peer: SfuPeer,
    size: tuple[int, int],
    source: str = "camera",
    name: str | None = None,
    **options: Any,
) -> None:
    """Publishes a feed of the peer (``name``, by default the source) as ``source``."""
    name = name or source
    offer = await peer.command("publish", name=name, width=size[0], height=size[1], **options)
    ack = await client.ok(
        "rtc.publish", source=source, description={"type": "offer", "sdp": offer["sdp"]}
    )
    assert ack["description"]["type"] == "answer"
    await peer.command("answered", name=name, sdp=ack["description"]["sdp"])


async def subscribe(
    client: HubClient, peer: SfuPeer, feed: int, name: str, source: str = "camera"
) -> int:
    ack = await client.ok("rtc.subscribe", participant_id=feed, source=source)
    answer = await peer.command("accept", name=name, sdp=ack["description"]["sdp"])
    await client.ok(
        "rtc.answer",
        subscription=ack["subscription"],
        description={"type": "answer", "sdp": answer["sdp"]},
    )
    return int(ack["subscription"])


@asynccontextmanager
async def teacher_and_pupil(
    live: Live, room: Room, janus: Janus
) -> AsyncIterator[tuple[HubClient, HubClient, SfuPeer, SfuPeer]]:
    """A teacher administrator's and a pupil's sockets, and a media peer for each in Janus's
    namespace; the peers are closed however the test ends."""
    teacher = await connect(live, room, "teacher_admin")
    pupil = await connect(live, room, "pupil")
    teacher_peer = await SfuPeer.start(janus)
    pupil_peer = await SfuPeer.start(janus)
    try:
        yield teacher, pupil, teacher_peer, pupil_peer
    finally:
        await teacher_peer.close()
        await pupil_peer.close()


async def teacher_receives_pupil(
    teacher: HubClient, pupil: HubClient, teacher_peer: SfuPeer, pupil_peer: SfuPeer
) -> int:
    """The teacher starts a session, both join, the pupil publishes its camera and the
    teacher's peer receives it (named "pupil"); returns the pupil's participant id."""
    await teacher.ok("rtc.start", max_participants=30)
    await teacher.ok("rtc.join")
    pupil_id = int((await pupil.ok("rtc.join"))["participant_id"])
    await publish(pupil, pupil_peer, PUPIL_CAMERA)
    await teacher.wait_for("rtc.feed", participant_id=pupil_id, live=True)
    await subscribe(teacher, teacher_peer, pupil_id, "pupil")
    await until_received(teacher_peer, "pupil", PUPIL_CAMERA)
    return pupil_id


async def until_received(
    peer: SfuPeer, name: str, size: tuple[int, int], sound: bool = True
) -> None:
    """Decoded video frames of the publisher's size (and audio) from that subscription."""

    async def arrived() -> bool:
        received = await peer.command("received")
        seen = list(size) in received["sizes"].get(name, [])
        return seen and (not sound or received["sounds"].get(name, 0) > 0)

    await eventually_async(arrived)


async def counts(peer: SfuPeer, name: str) -> tuple[int, int]:
    """Video frames and audio frames received so far on one subscription."""
    received = await peer.command("received")
    return received["frames"].get(name, 0), received["sounds"].get(name, 0)


async def stopped(peer: SfuPeer, name: str, kind: str, witness: int) -> None:
    """Waits until ``kind`` ("video" or "audio") stops arriving on a subscription: a stretch in
    which the other kind delivered ``witness`` frames (so the connection was alive and the
    stopped kind would have arrived too) brought none of it."""
    mine, other = (0, 1) if kind == "video" else (1, 0)
    start = await counts(peer, name)

    async def quiet() -> bool:
        nonlocal start
        now = await counts(peer, name)
        if now[other] - start[other] < witness:
            return False
        if now[mine] == start[mine]:
            return True
        start = now
        return False

    await eventually_async(quiet)


async def flowing(peer: SfuPeer, name: str, kind: str, frames: int = 10) -> None:
    """Waits until ``frames`` more frames of ``kind`` arrived on a subscription."""
    index = 0 if kind == "video" else 1
    start = (await counts(peer, name))[index]

    async def more() -> bool:
        return (await counts(peer, name))[index] >= start + frames

    await eventually_async(more)


async def as_admin(janus: Janus) -> tuple[JanusConnection, JanusSession]:
    connection = await JanusConnection.open(janus.socket_path, janus.api_secret)
    return connection, await JanusSession.create(connection, 20)


async def participants(janus: Janus, room_id: int) -> list[dict[str, Any]]:
    """Janus's own list of the room's participants: what the SFU really holds."""
    connection, session = await as_admin(janus)
    try:
        handle = await session.attach()
        data, _ = await handle.message({"request": "listparticipants", "room": room_id})
        found: list[dict[str, Any]] = data["participants"]
        return found
    finally:
        await session.destroy()
        await connection.close()


async def publishers(janus: Janus, room_id: int) -> list[int]:
    """The feeds Janus receives in the room: one upload each, whoever watches them."""
    return sorted(p["id"] for p in await participants(janus, room_id) if p.get("publisher"))


async def until_publishers(janus: Janus, room_id: int, expected: list[int]) -> None:
    """Waits for Janus's list to be ``expected``: Janus drops a kicked or detached publisher
    from it in its own time, after answering the request."""

    async def listed() -> bool:
        return await publishers(janus, room_id) == sorted(expected)

    await eventually_async(listed)


async def room_id(live: Live, project_id: int) -> int:
    async with live.services.db.reader() as tx:
        video = await running(tx, project_id)
    assert video is not None
    return room_of(live.services.settings.signing_key, video).id


async def pupils(live: Live, room: Room, count: int) -> list[HubClient]:
    """More pupils than the room's one, each with a socket in the room."""
    clients = []
    for number in range(count):
        made = await live.http.post(
            f"/api/projects/{room.project_id}/pupils",
            json={"display_name": f"Pupil {number}", "role": "pupil"},
            headers=room.headers["teacher_admin"],
        )
        assert made.status_code == 201, made.text
        user_id = made.json()["pupils"][0]["user_id"]
        await settle_password(live.services, user_id)
        token, _ = live.services.tokens.issue(user_id, 0)
        client = await HubClient.connect(live.url, room.project_id, token)
        await client.wait_for("presence.state")
        clients.append(client)
    return clients
