"""SFU work that crosses nodes: the broker topic `TOPIC` carries it to the node holding the
handles.

A teacher's request may arrive on one node while the participant's handles (its publisher
handle, whose offer names the streams to moderate, and its subscriptions) live on another. What
is global at Janus (kick, destroy, the allow-list) the teacher's node does itself; then it
publishes one of these events, and every node (itself included, at once: the broker delivers
locally before it returns) does its part with the handles it holds:

- ``moderate``: mute (true) or let through (false) the audio or video of some feeds;
- ``gone``: a participant left or was removed: its handles are detached;
- ``ended``: the room was destroyed: every handle in it is detached;
- ``switch``: a returning participant's new feed is up: every subscription of its old feed is
  switched to it, then the node holding the old feed lets it go, `SWITCH_MARGIN` seconds later
  (the other nodes switch on the same event: none of them should find the old feed gone);
- ``release``: a feed's seat, held by a node the participant no longer talks through, goes.

Active speaker: the node holding a talking participant's seat pushes ``rtc.speaker`` to the
session's room. A lost Janus instance: the node that noticed moves its sessions
(`sfu_placement.fail_over`).
"""

from __future__ import annotations

import logging
from typing import Any

from signaling import sfu_feeds, sfu_placement
from signaling.janus import JanusError
from signaling.sfu import Sfu
from signaling.sfu_rooms import SOURCES, feed_owner
from signaling.state import SessionState
from twinspace_rt.errors import AppError
from twinspace_rt.hub import events
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import push
from twinspace_rt.storage.video_models import Participant, VideoSession

log = logging.getLogger(__name__)

TOPIC = "video:sfu"
# How long a replaced feed stays in its room after the switch to its successor was published.
SWITCH_MARGIN = 2.0


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
    state: SessionState,
    participant: Participant,
    *,
    kick: bool = False,
    group: int | None = None,
    moved: bool = False,
) -> None:
    """A participant who left, was removed or ``moved`` out of ``group``: its tokens go from
    that room (and, removed, Janus kicks its feeds), whichever node holds its handles there
    detaches them, and its feeds end for the participants of that room."""
    video = state.video
    if video.topology != "sfu" or participant.id is None:
        return
    before = group if moved else participant.breakout
    room = sfu.room(video, before)
    if kick:
        await sfu.kick(room, participant.id)
    else:
        await sfu.withdraw(room, participant.id)
    await gone(hub, room.id, participant.id)
    await sfu_feeds.tell(hub, state, participant.id, SOURCES, False, before)


async def gone(hub: Hub, room_id: int, participant_id: int) -> None:
    await hub.broker.publish(
        TOPIC, {"kind": "gone", "room": room_id, "participant": participant_id}
    )


async def ended(hub: Hub, room_id: int) -> None:
    await hub.broker.publish(TOPIC, {"kind": "ended", "room": room_id})


async def switch(hub: Hub, room_id: int, old: int, new: int, mids: dict[str, list[str]]) -> None:
    """Every node's subscriptions of feed ``old`` carry feed ``new`` from now on."""
    event = {"kind": "switch", "room": room_id, "old": old, "new": new, "mids": mids}
    await hub.broker.publish(TOPIC, event)


async def release(hub: Hub, room_id: int, feed: int) -> None:
    """Whichever node holds the feed's seat lets it go."""
    await hub.broker.publish(TOPIC, {"kind": "release", "room": room_id, "feed": feed})


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
                            await sfu.moderate(room_id, participant_id, source, kinds)
            elif not isinstance(room_id, int):
                return  # a gap: nothing to catch up, the handles are this node's own
            elif kind == "gone":
                await sfu.forget(room_id, int(event["participant"]))
            elif kind == "ended":
                await sfu.forget_room(room_id)
            elif kind == "switch":
                await switched(room_id, int(event["old"]), int(event["new"]), event["mids"])
            elif kind == "release":
                await sfu.release(room_id, int(event["feed"]))
        except (AppError, JanusError) as exc:
            log.warning("SFU %s in room %s failed: %s", kind, room_id, exc)

    async def switched(room_id: int, old: int, new: int, mids: dict[str, list[str]]) -> None:
        """Then the node holding the old feed (whichever it is) lets it go."""
        await sfu.switch(room_id, old, new, mids)

        async def release() -> None:
            await sfu.release(room_id, old)

        hub.later(SWITCH_MARGIN, release)

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

    async def held_elsewhere(project_id: int, room_id: int, feed: int) -> None:
        """A participant back through another node needs a seat that node still holds (one
        that is not its live feed, which is switched over instead): it goes."""
        await release(hub, room_id, feed)

    sfu.on_held_elsewhere = held_elsewhere

    def feed_down(project_id: int, room_id: int, feed: int) -> None:
        participant_id, source = feed_owner(feed)

        async def end() -> None:
            await sfu_feeds.ended(
                hub, sfu, project_id, participant_id, source, feed=feed, room_id=room_id
            )

        hub.later(0, end)

    sfu.on_feed_down = feed_down
    hub.state["video.sfu"] = sfu
    hub.broker.subscribe(TOPIC, handle)
