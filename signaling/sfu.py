"""The SFU of class-size sessions: this node's handles on Janus's VideoRoom, driven by the
server alone.

Browsers never talk to Janus. This node holds one Janus session per instance (over
`signaling/janus.py`), and per local participant a publisher handle per feed (camera, screen)
and a handle per subscription. Each feed's token is added to the room's allow-list just before
its handle joins and withdrawn when its participant leaves or is removed (`sfu_admin.py`, which
also creates and destroys rooms; `sfu_rooms.py` derives ids, secrets and tokens).

What needs a participant's handles (moderating its streams, which are named by the ``mid`` of
its offer; switching subscriptions to a returning participant's new feed; detaching handles)
only the node holding them can do, so the other nodes ask it over the broker
(`signaling/sfu_cluster.py`).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from signaling.janus import Handle, JanusError, JanusSession
from signaling.sfu_admin import SfuRooms
from signaling.sfu_rooms import (
    NO_SUCH_FEED,
    JanusRoom,
    Source,
    feed_id,
    feed_owner,
    mids_by_kind,
    other_feed,
)
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.settings import Settings

log = logging.getLogger(__name__)

# Called with (project id, participant id, talking) when Janus reports a local feed's voice.
SpeakerCallback = Callable[[int, int, bool], None]
# Asks the other nodes to let go of a feed's seat in a room (project id, room id, feed id).
ReleaseCallback = Callable[[int, int, int], Awaitable[None]]
# Called with (project id, room id, feed id) when Janus hung up a local feed that was live.
FeedDownCallback = Callable[[int, int, int], None]

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
    # The subscription's streams by kind: their ``mid`` in Janus's offer (what `switch` and a
    # simulcast layer name).
    mids: dict[str, str]
    # The simulcast layer asked for (substream, temporal), kept across a switch.
    layer: tuple[int, int | None] | None = None


@dataclass
class Seat:
    """A feed's own handle in the room (joined as a publisher, publishing or not), the
    ``private_id`` Janus gave it (the room requires it of subscriptions), and the ``mid`` of
    each kind of its published streams."""

    room: JanusRoom
    project_id: int
    feed: int
    handle: Handle
    private_id: int
    mids: dict[str, list[str]] = field(default_factory=dict)


class Sfu(SfuRooms):
    """This node's way to Janus; idle (and never connected) when no socket is configured."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.links.on_lost = self._lost
        # By (room id, feed id), and by subscription number.
        self._seats: dict[tuple[int, int], Seat] = {}
        self._subscriptions: dict[int, Subscription] = {}
        self._numbers = itertools.count(1)
        # Handles of hung-up feeds being detached (a reference keeps each task alive).
        self._detaching: set[asyncio.Task[None]] = set()
        self.on_speaker: SpeakerCallback | None = None
        # Told when a Janus instance went away, after this node forgot its handles there.
        self.on_server_lost: Callable[[str], None] | None = None
        self.on_held_elsewhere: ReleaseCallback | None = None
        self.on_feed_down: FeedDownCallback | None = None

    def _lost(self, server: str) -> None:
        """Handles on a lost (or unreachable) instance are gone with it."""
        for key in [key for key, seat in self._seats.items() if seat.room.server == server]:
            del self._seats[key]
        for number, subscription in list(self._subscriptions.items()):
            if subscription.server == server:
                del self._subscriptions[number]
        if self.on_server_lost is not None:
            self.on_server_lost(server)

    def _local(self, room_id: int, participant_id: int, source: Source | None = None) -> list[Seat]:
        """This node's seats of a participant in a room (of one source, or both)."""
        return [
            seat
            for (held_in, feed), seat in self._seats.items()
            if held_in == room_id
            and feed_owner(feed)[0] == participant_id
            and (source is None or feed_owner(feed)[1] == source)
        ]

    async def live(self, room: JanusRoom, feed: int, timeout: float) -> bool:
        """Waits until the feed is up at Janus (subscribers may join it then)."""
        seat = self._seats.get((room.id, feed))
        if seat is None:
            return False
        try:
            async with asyncio.timeout(timeout):
                await seat.handle.up.wait()
        except TimeoutError:
            return False
        return self._seats.get((room.id, feed)) is seat

    def _on_seat_event(self, seat: Seat) -> Callable[[dict[str, Any]], None]:
        """Janus tells every publisher of the room who talks; the node holding the talker's
        own seat is the one that reports it, so it is reported once."""

        def on_event(data: dict[str, Any]) -> None:
            kind = data.get("videoroom")
            if kind not in ("talking", "stopped-talking") or data.get("id") != seat.feed:
                return
            participant_id, source = feed_owner(seat.feed)
            if self.on_speaker is not None and source == "camera":
                self.on_speaker(seat.project_id, participant_id, kind == "talking")

        return on_event

    def _on_hangup(self, seat: Seat) -> Callable[[], None]:
        """The peer's connection to a live feed ended (its page closed, its network went):
        Janus took the feed out of the room, so the seat goes and the session is told."""

        def hung_up() -> None:
            if self._seats.get((seat.room.id, seat.feed)) is not seat:
                return
            del self._seats[(seat.room.id, seat.feed)]
            task = asyncio.get_running_loop().create_task(seat.handle.detach())
            self._detaching.add(task)
            task.add_done_callback(self._detaching.discard)
            if self.on_feed_down is not None:
                self.on_feed_down(seat.project_id, seat.room.id, seat.feed)

        return hung_up

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
                # The participant reconnected through this node; another still holds a seat
                # of it under this id (in this very room): ask for it, then try again.
                if attempt == 0:
                    await self.on_held_elsewhere(project_id, room.id, feed)
                await asyncio.sleep(RELEASE_PAUSE)
        seat = Seat(room, project_id, feed, handle, int(data["private_id"]))
        handle.on_plugin_event = self._on_seat_event(seat)
        handle.on_hangup = self._on_hangup(seat)
        self._seats[(room.id, feed)] = seat
        return seat

    async def publish(
        self,
        room: JanusRoom,
        project_id: int,
        participant_id: int,
        source: Source,
        offer: str,
        live: int | None,
    ) -> tuple[int, str]:
        """Publishes one of the participant's feeds: the feed's id and Janus's answer. While
        an older feed of the source is ``live`` (the participant is back from a dropped socket),
        the new one takes the source's other id, so that both are in the room until the old
        one's subscribers are switched over."""
        if live is not None:
            feed = other_feed(live)
        else:
            held = self._local(room.id, participant_id, source)
            feed = held[0].feed if held else feed_id(participant_id, source)
        async with self.links.janus(room.server) as (session, manager):
            seat = await self._seat(session, manager, room, project_id, feed)
            _, jsep = await seat.handle.message(
                {"request": "configure", "audio": True, "video": True},
                {"type": "offer", "sdp": offer},
                wait_event=True,
            )
            if jsep is None:
                raise JanusError(0, "no answer to the offer")
            seat.mids = mids_by_kind(offer)
        return feed, str(jsep["sdp"])

    def mids(self, room_id: int, feed: int) -> dict[str, list[str]]:
        """The published streams of a local feed, by kind."""
        seat = self._seats.get((room_id, feed))
        return {} if seat is None else seat.mids

    async def subscribe(
        self, room: JanusRoom, project_id: int, participant_id: int, feed: int, own: int | None
    ) -> tuple[int, str]:
        """A new subscription of the participant to one feed: its number and Janus's offer.
        One of the participant's seats carries the ``private_id`` the room asks for: one held
        here, or else a camera seat under an id that is not ``own`` (its live camera feed, which
        another node may hold)."""
        async with self.links.janus(room.server) as (session, manager):
            mine = self._local(room.id, participant_id)
            if mine:
                seat = mine[0]
            else:
                pvt = feed_id(participant_id, "camera") if own is None else other_feed(own)
                seat = await self._seat(session, manager, room, project_id, pvt)
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
        mids = {str(s["type"]): str(s["mid"]) for s in data.get("streams", []) if "mid" in s}
        number = next(self._numbers)
        self._subscriptions[number] = Subscription(
            room.id, room.server, participant_id, feed, handle, mids
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

    async def layer(
        self, participant_id: int, number: int, substream: int, temporal: int | None
    ) -> None:
        """The simulcast layer Janus forwards on one subscription (of a simulcast feed; Janus
        ignores it for a feed sent in one layer)."""
        subscription = self._subscription(participant_id, number)
        video = subscription.mids.get("video")
        if video is None:
            raise AppError(ErrorCode.conflict, f"Subscription {number} carries no video.")
        body: dict[str, Any] = {"request": "configure", "mid": video, "substream": substream}
        if temporal is not None:
            body["temporal"] = temporal
        async with self.links.janus(subscription.server):
            await subscription.handle.message(body, wait_event=True)
        subscription.layer = (substream, temporal)

    async def switch(self, room_id: int, old: int, new: int, mids: dict[str, list[str]]) -> int:
        """This node's subscriptions to feed ``old`` now carry feed ``new`` (VideoRoom's
        ``switch``: each stream of the subscription is fed from the new feed's stream of the
        same kind, on the same connection, without a new offer). How many were switched."""
        switched = 0
        for subscription in list(self._subscriptions.values()):
            if subscription.room != room_id or subscription.feed != old:
                continue
            streams = []
            for kind, sub_mid in subscription.mids.items():
                if mids.get(kind):
                    stream: dict[str, Any] = {"feed": new, "mid": mids[kind][0], "sub_mid": sub_mid}
                    if kind == "video" and subscription.layer is not None:
                        stream["substream"], temporal = subscription.layer
                        if temporal is not None:
                            stream["temporal"] = temporal
                    streams.append(stream)
            try:
                async with self.links.janus(subscription.server):
                    await subscription.handle.message(
                        {"request": "switch", "streams": streams}, wait_event=True
                    )
            except JanusError as exc:
                log.warning("switching a subscription to feed %s failed: %s", new, exc)
                continue
            subscription.feed = new
            switched += 1
        return switched

    async def release(self, room_id: int, feed: int) -> bool:
        """Lets go of a feed's seat held here (its handle leaves the room); whether it was."""
        seat = self._seats.pop((room_id, feed), None)
        if seat is None:
            return False
        await seat.handle.detach()
        return True

    async def unsubscribe(self, participant_id: int, number: int) -> None:
        subscription = self._subscription(participant_id, number)
        del self._subscriptions[number]
        await subscription.handle.detach()

    async def unpublish(self, room: JanusRoom, participant_id: int, source: Source) -> bool:
        """Whether a feed of the source was live here; the participant stays seated.

        The feed's handle leaves the room and is detached: Janus 1.1.2 gives a publisher handle
        that was told ``unpublish`` no media again when it publishes anew (no ``webrtcup``
        came), so publishing again joins with a fresh handle, as the first time."""
        found = False
        for seat in self._local(room.id, participant_id, source):
            if seat.handle.up.is_set():
                found = await self.release(room.id, seat.feed) or found
        return found

    async def moderate(
        self, room_id: int, participant_id: int, source: Source, kinds: dict[str, bool]
    ) -> bool:
        """Mutes (True) or lets through (False) kinds of a local participant's feeds of one
        source, for every subscriber; whether this node holds any."""
        seats = self._local(room_id, participant_id, source)
        for seat in seats:
            room = seat.room
            async with self.links.janus(room.server) as (_, manager):
                for kind, mute in kinds.items():
                    for mid in seat.mids.get(kind, []):
                        body = {"request": "moderate", "room": room.id, "secret": room.secret}
                        await manager.message({**body, "id": seat.feed, "mid": mid, "mute": mute})
        return bool(seats)

    async def forget(self, room_id: int, participant_id: int) -> None:
        """Detaches this node's handles of a participant who left or was removed."""
        for seat in self._local(room_id, participant_id):
            await self.release(room_id, seat.feed)
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

    async def close(self) -> None:
        await self.links.close()
