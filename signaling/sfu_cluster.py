"""SFU work that crosses nodes: the broker topic `TOPIC` carries it to the node holding the
handles.

A teacher's request may arrive on one node while the participant's handles (its publisher
handle, whose offer names the streams to moderate, and its subscriptions) live on another. What
is global at Janus (kick, destroy, the allow-list) the teacher's node does itself; then it
publishes one of these events, and every node (itself included, at once: the broker delivers
locally before it returns) does its part with the handles it holds:

- ``moderate``: mute (true) or let through (false) the audio or video of some feeds;
- ``gone``: a participant left or was removed: its handles are detached;
- ``ended``: the room was destroyed: every handle in it is detached.

Active speaker: the node holding a talking participant's seat pushes ``rtc.speaker`` to the
session's room. A lost Janus instance: the node that noticed moves its sessions
(`sfu_placement.fail_over`).
"""

from __future__ import annotations

import logging
from typing import Any

from signaling import sfu_placement
from signaling.janus import JanusError
from signaling.sfu import Sfu
from signaling.sfu_rooms import SOURCES, feed_id
from twinspace_rt.errors import AppError
from twinspace_rt.hub import events
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import push
from twinspace_rt.storage.video_models import Participant, VideoSession

log = logging.getLogger(__name__)

TOPIC = "video:sfu"


def moderation(
    mic: bool | None, camera: bool | None, screen: bool | None
) -> dict[str, dict[str, bool]]:
    """What to mute (true) or let through (false) of a participant's feeds, by source and kind;
    None leaves it be. The microphone is the camera feed's audio; the screen feed's audio and
    video go together."""
    feeds: dict[str, dict[str, bool]] = {"camera": {}, "screen": {}}
    if mic is not None:
        feeds["camera"]["audio"] = mic
    if camera is not None:
        feeds["camera"]["video"] = camera
    if screen is not None:
        feeds["screen"]["video"] = screen
        feeds["screen"]["audio"] = screen
    return {source: kinds for source, kinds in feeds.items() if kinds}


async def moderate(
    hub: Hub,
    sfu: Sfu,
    video: VideoSession,
    targets: list[Participant],
    kinds: dict[str, dict[str, bool]],
) -> None:
    """Asks the nodes holding the targets' feeds (each in its group's room) to moderate them."""
    pairs = [[sfu.room(video, p.breakout).id, p.id] for p in targets if p.id is not None]
    if pairs and kinds:
        await hub.broker.publish(TOPIC, {"kind": "moderate", "targets": pairs, "feeds": kinds})


async def gone_from_sfu(
    hub: Hub,
    sfu: Sfu,
    video: VideoSession,
    participant: Participant,
    *,
    kick: bool = False,
    group: int | None = None,
    moved: bool = False,
) -> None:
    """A participant who left, was removed or ``moved`` out of ``group``: its tokens go from
    that room (and, removed, Janus kicks its feeds), whichever node holds its handles there
    detaches them, and its feeds end for everyone."""
    if video.topology != "sfu" or participant.id is None:
        return
    room = sfu.room(video, group if moved else participant.breakout)
    if kick:
        await sfu.kick(room, participant.id)
    else:
        await sfu.withdraw(room, participant.id)
    await gone(hub, room.id, participant.id)
    for source in SOURCES:
        frame = push("rtc.feed", participant_id=participant.id, source=source, live=False)
        await hub.publish(video.project_id, events.to_everyone(frame))


async def gone(hub: Hub, room_id: int, participant_id: int) -> None:
    await hub.broker.publish(
        TOPIC, {"kind": "gone", "room": room_id, "participant": participant_id}
    )


async def ended(hub: Hub, room_id: int) -> None:
    await hub.broker.publish(TOPIC, {"kind": "ended", "room": room_id})


def follow(hub: Hub, sfu: Sfu) -> None:
    """Subscribes this node to the topic and reports its speakers; called when the hub
    starts."""

    async def handle(event: dict[str, Any]) -> None:
        kind, room_id = event.get("kind"), event.get("room")
        try:
            if kind == "moderate":
                for room_id, participant_id in event["targets"]:
                    for source in SOURCES:
                        kinds = event["feeds"].get(source)
                        if kinds:
                            await sfu.moderate(room_id, feed_id(participant_id, source), kinds)
            elif not isinstance(room_id, int):
                return  # a gap: nothing to catch up, the handles are this node's own
            elif kind == "gone":
                await sfu.forget(room_id, int(event["participant"]))
            elif kind == "ended":
                await sfu.forget_room(room_id)
        except (AppError, JanusError) as exc:
            log.warning("SFU %s in room %s failed: %s", kind, room_id, exc)

    def speaker(project_id: int, participant_id: int, talking: bool) -> None:
        frame = push("rtc.speaker", participant_id=participant_id, talking=talking)

        async def send() -> None:
            await hub.publish(project_id, events.to_everyone(frame))

        hub.later(0, send)

    sfu.on_speaker = speaker

    def lost(server: str) -> None:
        async def move() -> None:
            await sfu_placement.fail_over(hub, sfu, server)

        hub.later(0, move)

    sfu.on_server_lost = lost

    async def held_elsewhere(project_id: int, room_id: int, participant_id: int) -> None:
        """A participant back through another node: its old handles go, and with them its old
        feeds (subscribers are told; the new feed is announced once it is up)."""
        await gone(hub, room_id, participant_id)
        for source in SOURCES:
            frame = push("rtc.feed", participant_id=participant_id, source=source, live=False)
            await hub.publish(project_id, events.to_everyone(frame))

    sfu.on_held_elsewhere = held_elsewhere
    hub.state["video.sfu"] = sfu
    hub.broker.subscribe(TOPIC, handle)
