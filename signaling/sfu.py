"""The SFU of class-size sessions: Janus VideoRoom rooms and handles, driven by the server alone.

Browsers never talk to Janus. This node holds one Janus session (over `signaling/janus.py`),
one handle that manages rooms, and per local participant a publisher handle per feed (camera,
screen) and a handle per subscription. Nothing reaches a room except through here: Janus's API
takes the API secret; rooms are created only with the plugin's ``admin_key``, are private (not
listed), and carry a room ``secret`` (needed to kick, moderate or destroy) and an allow-list of
tokens (needed to join at all). Each feed's token is added just before its handle joins and
withdrawn when its participant leaves or is removed (`signaling/sfu_rooms.py` derives them).

What is global at Janus (kick, destroy, the allow-list) any node does with the room's secret;
what needs a participant's handles (moderating its streams, which are named by the ``mid`` of
its offer; detaching its handles) only the node holding them can do, so the other nodes ask it
over the broker (`signaling/sfu_cluster.py`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from signaling.janus import Handle, JanusError, JanusSession
from signaling.janus_links import JanusLinks
from signaling.sfu_rooms import (
    NO_SUCH_FEED,
    NO_SUCH_ROOM,
    SOURCES,
    JanusRoom,
    Source,
    feed_id,
    feed_owner,
    mids_by_kind,
    room_of,
)
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.settings import Settings
from twinspace_rt.storage.video_models import VideoSession

log = logging.getLogger(__name__)

# Active speaker (Janus's `audiolevel_event`): a feed is "talking" when the average level of its
# last `AUDIO_ACTIVE_PACKETS` audio packets (20 ms each: one second) is louder than
# -`AUDIO_LEVEL_AVERAGE` dBov (Janus's own default level; 127 is silence, 0 the loudest).
AUDIO_ACTIVE_PACKETS = 50
AUDIO_LEVEL_AVERAGE = 25

# Janus asks every publisher for a keyframe this often (`fir_freq`): a subscriber switching to
# another simulcast layer gets it at the next keyframe of that layer, and the one Janus asks for
# at the switch does not always come (Chromium, measured in tests/video/test_sfu_simulcast.py).
KEYFRAME_SECONDS = 3

# Called with (project id, participant id, talking) when Janus reports a local feed's voice.
SpeakerCallback = Callable[[int, int, bool], None]
# Asks the other nodes to let go of a participant's handles in a room (project id, room id,
# participant id).
ReleaseCallback = Callable[[int, int, int], Awaitable[None]]

# VideoRoom: a publisher with that id is in the room already (held by another node).
ID_EXISTS = 436
# How often, and how far apart, a seat held by another node is asked for again: the other node
# hears of it over the broker, so it takes a round trip through Redis.
RELEASE_ATTEMPTS, RELEASE_PAUSE = 20, 0.1


@dataclass
class Subscription:
    room: int
    server: str
    owner: int
    feed: int
    handle: Handle
    # The subscription's video stream (its ``mid`` in Janus's offer), for a simulcast layer.
    video_mid: str | None


@dataclass
class Seat:
    """A feed's own handle in the room (joined as a publisher, publishing or not), the
    ``private_id`` Janus gave it (the room requires it of subscriptions), and the ``mid`` of
    each kind of its published streams."""

    room: JanusRoom
    project_id: int
    handle: Handle
    private_id: int
    mids: dict[str, list[str]] = field(default_factory=dict)


class Sfu:
    """This node's way to Janus; idle (and never connected) when no socket is configured."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.links = JanusLinks(settings)
        self.links.on_lost = self._lost
        # By (room id, feed id), and by subscription number.
        self._seats: dict[tuple[int, int], Seat] = {}
        self._subscriptions: dict[int, Subscription] = {}
        self._numbers = itertools.count(1)
        self.on_speaker: SpeakerCallback | None = None
        # Told when a Janus instance went away, after this node forgot its handles there.
        self.on_server_lost: Callable[[str], None] | None = None
        self.on_held_elsewhere: ReleaseCallback | None = None

    @property
    def configured(self) -> bool:
        return bool(self.links.servers)

    def room(self, video: VideoSession, group: int | None = None) -> JanusRoom:
        """The session's main room, or the room of one of its breakout groups. A session
        started before sessions named their instance is on the first one configured."""
        room = room_of(self._settings.signing_key, video, group)
        if not room.server and self.links.servers:
            return replace(room, server=self.links.servers[0])
        return room

    def _lost(self, server: str) -> None:
        """Handles on a lost (or unreachable) instance are gone with it."""
        for key in [key for key, seat in self._seats.items() if seat.room.server == server]:
            del self._seats[key]
        for number, subscription in list(self._subscriptions.items()):
            if subscription.server == server:
                del self._subscriptions[number]
        if self.on_server_lost is not None:
            self.on_server_lost(server)

    async def create_room(self, room: JanusRoom, publishers: int) -> None:
        """Every participant may publish a camera and a screen: twice the seats in feeds."""
        admin_key = self._settings.rtc_janus_admin_key
        async with self.links.janus(room.server) as (_, manager):
            await manager.message(
                {
                    "request": "create",
                    "room": room.id,
                    "secret": room.secret,
                    "is_private": True,
                    "publishers": 2 * publishers,
                    "allowed": [],
                    "require_pvtid": True,
                    "audiolevel_event": True,
                    "audio_active_packets": AUDIO_ACTIVE_PACKETS,
                    "audio_level_average": AUDIO_LEVEL_AVERAGE,
                    "fir_freq": KEYFRAME_SECONDS,
                    **({} if admin_key is None else {"admin_key": admin_key.get_secret_value()}),
                }
            )

    async def destroy_room(self, room: JanusRoom) -> None:
        """Ends every handle in the room at Janus; each node forgets its own (`forget_room`)."""
        async with self.links.janus(room.server) as (_, manager):
            try:
                await manager.message(
                    {"request": "destroy", "room": room.id, "secret": room.secret}
                )
            except JanusError as exc:
                if exc.code != NO_SUCH_ROOM:
                    raise

    async def _allowed(self, manager: Handle, room: JanusRoom, action: str, feed: int) -> None:
        body = {"request": "allowed", "room": room.id, "secret": room.secret, "action": action}
        await manager.message({**body, "allowed": [room.token(feed)]})

    async def live(
        self, room: JanusRoom, participant_id: int, source: Source, timeout: float
    ) -> bool:
        """Waits until the feed is up at Janus (subscribers may join it then)."""
        key = (room.id, feed_id(participant_id, source))
        seat = self._seats.get(key)
        if seat is None:
            return False
        try:
            async with asyncio.timeout(timeout):
                await seat.handle.up.wait()
        except TimeoutError:
            return False
        return self._seats.get(key) is seat

    def _on_seat_event(self, seat: Seat, feed: int) -> Callable[[dict[str, Any]], None]:
        """Janus tells every publisher of the room who talks; the node holding the talker's
        own seat is the one that reports it, so it is reported once."""

        def on_event(data: dict[str, Any]) -> None:
            kind = data.get("videoroom")
            if kind not in ("talking", "stopped-talking") or data.get("id") != feed:
                return
            participant_id, source = feed_owner(feed)
            if self.on_speaker is not None and source == "camera":
                self.on_speaker(seat.project_id, participant_id, kind == "talking")

        return on_event

    async def _seat(
        self, session: JanusSession, manager: Handle, room: JanusRoom, project_id: int, feed: int
    ) -> Seat:
        """The feed's place in the room, joined with its token on first need."""
        seat = self._seats.get((room.id, feed))
        if seat is not None:
            return seat
        await self._allowed(manager, room, "add", feed)
        for attempt in range(RELEASE_ATTEMPTS):
            handle = await session.attach()
            try:
                data, _ = await handle.message(
                    {
                        "request": "join",
                        "ptype": "publisher",
                        "room": room.id,
                        "id": feed,
                        "display": str(feed),
                        "token": room.token(feed),
                    },
                    wait_event=True,
                )
                break
            except JanusError as exc:
                await handle.detach()
                last = attempt == RELEASE_ATTEMPTS - 1
                if exc.code != ID_EXISTS or self.on_held_elsewhere is None or last:
                    raise
                # The participant reconnected through this node; another still holds its old
                # handles (in this very room): ask for them, then try again.
                if attempt == 0:
                    await self.on_held_elsewhere(project_id, room.id, feed_owner(feed)[0])
                await asyncio.sleep(RELEASE_PAUSE)
        seat = Seat(room, project_id, handle, int(data["private_id"]))
        handle.on_plugin_event = self._on_seat_event(seat, feed)
        self._seats[(room.id, feed)] = seat
        return seat

    async def publish(
        self, room: JanusRoom, project_id: int, participant_id: int, source: Source, offer: str
    ) -> str:
        """Publishes one of the participant's feeds; Janus's answer."""
        async with self.links.janus(room.server) as (session, manager):
            feed = feed_id(participant_id, source)
            seat = await self._seat(session, manager, room, project_id, feed)
            _, jsep = await seat.handle.message(
                {"request": "configure", "audio": True, "video": True},
                {"type": "offer", "sdp": offer},
                wait_event=True,
            )
            if jsep is None:
                raise JanusError(0, "no answer to the offer")
            seat.mids = mids_by_kind(offer)
            await seat.handle.trickle_completed()
        return str(jsep["sdp"])

    async def subscribe(
        self, room: JanusRoom, project_id: int, participant_id: int, feed: int
    ) -> tuple[int, str]:
        """A new subscription of the participant to one feed: its number and Janus's offer.
        The participant's camera seat carries the ``private_id`` the room asks for."""
        async with self.links.janus(room.server) as (session, manager):
            seat = await self._seat(session, manager, room, project_id, participant_id)
            handle = await session.attach()
            try:
                data, jsep = await handle.message(
                    {
                        "request": "join",
                        "ptype": "subscriber",
                        "room": room.id,
                        "streams": [{"feed": feed}],
                        "private_id": seat.private_id,
                    },
                    wait_event=True,
                )
                if jsep is None:
                    raise JanusError(NO_SUCH_FEED, "the feed has no media")
            except JanusError:
                await handle.detach()
                raise
        streams = data.get("streams", [])
        video = next((s.get("mid") for s in streams if s.get("type") == "video"), None)
        number = next(self._numbers)
        self._subscriptions[number] = Subscription(
            room.id,
            room.server,
            participant_id,
            feed,
            handle,
            None if video is None else str(video),
        )
        return number, str(jsep["sdp"])

    def _subscription(self, participant_id: int, number: int) -> Subscription:
        found = self._subscriptions.get(number)
        if found is None or found.owner != participant_id:
            raise AppError(ErrorCode.not_found, f"Subscription {number} is not yours.")
        return found

    async def answer(self, participant_id: int, number: int, answer: str) -> None:
        subscription = self._subscription(participant_id, number)
        async with self.links.janus(subscription.server):
            await subscription.handle.message(
                {"request": "start"}, {"type": "answer", "sdp": answer}, wait_event=True
            )
            await subscription.handle.trickle_completed()

    async def layer(
        self, participant_id: int, number: int, substream: int, temporal: int | None
    ) -> None:
        """The simulcast layer Janus forwards on one subscription (of a simulcast feed; Janus
        ignores it for a feed sent in one layer)."""
        subscription = self._subscription(participant_id, number)
        if subscription.video_mid is None:
            raise AppError(ErrorCode.conflict, f"Subscription {number} carries no video.")
        body: dict[str, Any] = {
            "request": "configure",
            "mid": subscription.video_mid,
            "substream": substream,
        }
        if temporal is not None:
            body["temporal"] = temporal
        async with self.links.janus(subscription.server):
            await subscription.handle.message(body, wait_event=True)

    async def unsubscribe(self, participant_id: int, number: int) -> None:
        subscription = self._subscription(participant_id, number)
        del self._subscriptions[number]
        await subscription.handle.detach()

    async def unpublish(self, room: JanusRoom, participant_id: int, source: Source) -> bool:
        """Whether the feed was live here; the participant stays seated in the session.

        The feed's handle leaves the room and is detached: Janus 1.1.2 gives a publisher handle
        that was told ``unpublish`` no media again when it publishes anew (no ``webrtcup``
        came), so publishing again joins with a fresh handle, as the first time."""
        key = (room.id, feed_id(participant_id, source))
        seat = self._seats.get(key)
        if seat is None or not seat.handle.up.is_set():
            return False
        del self._seats[key]
        async with self.links.janus(room.server):
            await seat.handle.detach()
        return True

    async def moderate(self, room_id: int, feed: int, kinds: dict[str, bool]) -> bool:
        """Mutes (True) or lets through (False) kinds of a local feed's streams at Janus, for
        every subscriber; whether this node holds the feed."""
        seat = self._seats.get((room_id, feed))
        if seat is None:
            return False
        room = seat.room
        async with self.links.janus(room.server) as (_, manager):
            for kind, mute in kinds.items():
                for mid in seat.mids.get(kind, []):
                    body = {"request": "moderate", "room": room.id, "secret": room.secret}
                    await manager.message({**body, "id": feed, "mid": mid, "mute": mute})
        return True

    async def forget(self, room_id: int, participant_id: int) -> None:
        """Detaches this node's handles of a participant who left or was removed."""
        for source in SOURCES:
            seat = self._seats.pop((room_id, feed_id(participant_id, source)), None)
            if seat is not None:
                await seat.handle.detach()
        for number, subscription in list(self._subscriptions.items()):
            if subscription.room == room_id and subscription.owner == participant_id:
                del self._subscriptions[number]
                await subscription.handle.detach()

    async def forget_room(self, room_id: int) -> None:
        """Detaches this node's handles in a destroyed room (other sessions' stay)."""
        for key in [key for key in self._seats if key[0] == room_id]:
            await self._seats.pop(key).handle.detach()
        for number, subscription in list(self._subscriptions.items()):
            if subscription.room == room_id:
                del self._subscriptions[number]
                await subscription.handle.detach()

    def holds(self, room_id: int) -> int:
        """How many handles this node holds in a room (seats and subscriptions)."""
        seats = sum(1 for key in self._seats if key[0] == room_id)
        return seats + sum(1 for s in self._subscriptions.values() if s.room == room_id)

    async def withdraw(self, room: JanusRoom, participant_id: int) -> None:
        """The participant's tokens leave the allow-list: no handle of theirs may join again."""
        async with self.links.janus(room.server) as (_, manager):
            for source in SOURCES:
                await self._allowed(manager, room, "remove", feed_id(participant_id, source))

    async def kick(self, room: JanusRoom, participant_id: int) -> None:
        """Removal at the SFU, from any node: the tokens go first, then Janus kicks the feeds
        wherever they are held. The holder detaches its handles when told (`forget`)."""
        await self.withdraw(room, participant_id)
        async with self.links.janus(room.server) as (_, manager):
            for source in SOURCES:
                body = {"request": "kick", "room": room.id, "secret": room.secret}
                try:
                    await manager.message({**body, "id": feed_id(participant_id, source)})
                except JanusError as exc:
                    if exc.code != NO_SUCH_FEED:
                        raise

    async def close(self) -> None:
        await self.links.close()
