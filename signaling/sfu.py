"""The SFU of class-size sessions: Janus VideoRoom rooms and handles, driven by the server alone.

Browsers never talk to Janus. This node holds one Janus session (over `signaling/janus.py`),
one handle that manages rooms, and per local participant a publisher handle and a handle per
subscription. Nothing reaches a room except through here: Janus's API takes the API secret;
rooms are created only with the plugin's ``admin_key``, are private (not listed), and carry a
room ``secret`` (needed to kick, moderate or destroy) and an allow-list of tokens (needed to join
at all). Each participant's token is added just before their handles join and withdrawn when
they leave or are removed.

A room's id, secret and tokens are derived from the node's signing key and the session (HMAC),
so any node computes them and nothing about them is stored.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from signaling.janus import Handle, JanusConnection, JanusError, JanusSession
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.settings import Settings
from twinspace_rt.storage.video_models import VideoSession

# VideoRoom's error codes (janus_videoroom.c) that are the caller's doing, not Janus's failure.
NO_SUCH_ROOM, NO_SUCH_FEED, UNAUTHORIZED = 426, 428, 433
# Janus core: the SDP did not parse or negotiate.
JSEP_ERRORS = (464, 465, 466)


@dataclass(frozen=True)
class JanusRoom:
    id: int
    secret: str

    def token(self, participant_id: int) -> str:
        """A participant's entry on the room's allow-list."""
        message = f"participant:{participant_id}".encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()


def room_of(signing_key: str, video: VideoSession) -> JanusRoom:
    """The session's room: a 52-bit id (a safe integer in JavaScript too) and its secret. The
    start time keeps ids apart when a database is reset and session ids start over."""
    started = int(video.started_at.timestamp())
    message = f"janus-room:{video.id}:{started}".encode()
    digest = hmac.new(signing_key.encode(), message, hashlib.sha256).digest()
    room_id = (int.from_bytes(digest[:8], "big") >> 12) or 1
    return JanusRoom(room_id, digest[8:].hex())


def _refusal(error: JanusError) -> AppError:
    """What a Janus failure means to the client; the reason stays in our log only."""
    if error.code in (NO_SUCH_ROOM, NO_SUCH_FEED):
        return AppError(ErrorCode.not_found, "That participant publishes nothing in the session.")
    if error.code in JSEP_ERRORS:
        return AppError(ErrorCode.invalid_sdp, "The media server could not use the description.")
    return AppError(ErrorCode.media_unavailable)


@dataclass
class Subscription:
    owner: int
    feed: int
    handle: Handle


@dataclass
class Seat:
    """A participant's own handle in the room (joined as a publisher, publishing or not) and
    the ``private_id`` Janus gave it, which the room requires of its subscriptions."""

    handle: Handle
    private_id: int


@dataclass
class _Local:
    """What this node holds on Janus for its participants."""

    seats: dict[int, Seat] = field(default_factory=dict)
    subscriptions: dict[int, Subscription] = field(default_factory=dict)


class Sfu:
    """This node's way to Janus; idle (and never connected) when no socket is configured."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._session: JanusSession | None = None
        self._manager: Handle | None = None
        self._connecting = asyncio.Lock()
        self._local = _Local()
        self._numbers = itertools.count(1)

    @property
    def configured(self) -> bool:
        return bool(self._settings.rtc_janus_socket)

    def room(self, video: VideoSession) -> JanusRoom:
        return room_of(self._settings.signing_key, video)

    async def _connect(self) -> tuple[JanusSession, Handle]:
        async with self._connecting:
            if self._session is None or self._manager is None or not self._session.alive:
                settings = self._settings
                secret = settings.rtc_janus_api_secret
                connection = await JanusConnection.open(
                    settings.rtc_janus_socket, None if secret is None else secret.get_secret_value()
                )
                self._session = await JanusSession.create(
                    connection, settings.rtc_janus_keepalive_seconds
                )
                self._manager = await self._session.attach()
                # Handles of a lost session are gone with it.
                self._local = _Local()
            return self._session, self._manager

    @asynccontextmanager
    async def _janus(self) -> AsyncIterator[tuple[JanusSession, Handle]]:
        """Janus's refusals and failures as the client's errors."""
        try:
            yield await self._connect()
        except JanusError as exc:
            raise _refusal(exc) from exc

    async def create_room(self, room: JanusRoom, publishers: int) -> None:
        admin_key = self._settings.rtc_janus_admin_key
        async with self._janus() as (_, manager):
            await manager.message(
                {
                    "request": "create",
                    "room": room.id,
                    "secret": room.secret,
                    "is_private": True,
                    "publishers": publishers,
                    "allowed": [],
                    "require_pvtid": True,
                    "audiolevel_event": True,
                    **({} if admin_key is None else {"admin_key": admin_key.get_secret_value()}),
                }
            )

    async def destroy_room(self, room: JanusRoom) -> None:
        """Ends every handle in the room at Janus; this node forgets its own."""
        self._local = _Local()
        async with self._janus() as (_, manager):
            try:
                await manager.message(
                    {"request": "destroy", "room": room.id, "secret": room.secret}
                )
            except JanusError as exc:
                if exc.code != NO_SUCH_ROOM:
                    raise

    async def _allowed(self, manager: Handle, room: JanusRoom, action: str, who: int) -> None:
        body = {"request": "allowed", "room": room.id, "secret": room.secret, "action": action}
        await manager.message({**body, "allowed": [room.token(who)]})

    async def live(self, participant_id: int, timeout: float) -> bool:
        """Waits until the participant's feed is up at Janus (subscribers may join it then)."""
        seat = self._local.seats.get(participant_id)
        if seat is None:
            return False
        try:
            async with asyncio.timeout(timeout):
                await seat.handle.up.wait()
        except TimeoutError:
            return False
        return self._local.seats.get(participant_id) is seat

    async def _seat(
        self, session: JanusSession, manager: Handle, room: JanusRoom, who: int
    ) -> Seat:
        """The participant's place in the room, joined with its token on first need."""
        seat = self._local.seats.get(who)
        if seat is not None:
            return seat
        await self._allowed(manager, room, "add", who)
        handle = await session.attach()
        try:
            data, _ = await handle.message(
                {
                    "request": "join",
                    "ptype": "publisher",
                    "room": room.id,
                    "id": who,
                    "display": str(who),
                    "token": room.token(who),
                },
                wait_event=True,
            )
        except JanusError:
            await handle.detach()
            raise
        seat = Seat(handle, int(data["private_id"]))
        self._local.seats[who] = seat
        return seat

    async def publish(self, room: JanusRoom, participant_id: int, offer: str) -> str:
        """Publishes the participant's feed (its id is the participant's); Janus's answer."""
        async with self._janus() as (session, manager):
            seat = await self._seat(session, manager, room, participant_id)
            _, jsep = await seat.handle.message(
                {"request": "configure", "audio": True, "video": True},
                {"type": "offer", "sdp": offer},
                wait_event=True,
            )
            if jsep is None:
                raise JanusError(0, "no answer to the offer")
            await seat.handle.trickle_completed()
        return str(jsep["sdp"])

    async def subscribe(self, room: JanusRoom, participant_id: int, feed: int) -> tuple[int, str]:
        """A new subscription of the participant to one feed: its number and Janus's offer."""
        async with self._janus() as (session, manager):
            seat = await self._seat(session, manager, room, participant_id)
            handle = await session.attach()
            try:
                _, jsep = await handle.message(
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
        number = next(self._numbers)
        self._local.subscriptions[number] = Subscription(participant_id, feed, handle)
        return number, str(jsep["sdp"])

    def _subscription(self, participant_id: int, number: int) -> Subscription:
        found = self._local.subscriptions.get(number)
        if found is None or found.owner != participant_id:
            raise AppError(ErrorCode.not_found, f"Subscription {number} is not yours.")
        return found

    async def answer(self, participant_id: int, number: int, answer: str) -> None:
        subscription = self._subscription(participant_id, number)
        async with self._janus():
            await subscription.handle.message(
                {"request": "start"}, {"type": "answer", "sdp": answer}, wait_event=True
            )
            await subscription.handle.trickle_completed()

    async def unsubscribe(self, participant_id: int, number: int) -> None:
        subscription = self._subscription(participant_id, number)
        del self._local.subscriptions[number]
        await subscription.handle.detach()

    async def unpublish(self, participant_id: int) -> bool:
        """Whether the participant had a live feed here; it stays seated in the room."""
        seat = self._local.seats.get(participant_id)
        if seat is None or not seat.handle.up.is_set():
            return False
        async with self._janus():
            await seat.handle.message({"request": "unpublish"}, wait_event=True)
        return True

    async def leave(self, room: JanusRoom, participant_id: int) -> None:
        """The participant's handles on this node are detached and its token withdrawn."""
        seat = self._local.seats.pop(participant_id, None)
        if seat is not None:
            await seat.handle.detach()
        for number, subscription in list(self._local.subscriptions.items()):
            if subscription.owner == participant_id:
                del self._local.subscriptions[number]
                await subscription.handle.detach()
        async with self._janus() as (_, manager):
            await self._allowed(manager, room, "remove", participant_id)

    async def kick(self, room: JanusRoom, participant_id: int) -> None:
        """Removal at the SFU: the token goes first (no handle may join again), then Janus
        kicks the feed wherever it is held; this node's handles of it are detached."""
        await self.leave(room, participant_id)
        async with self._janus() as (_, manager):
            try:
                await manager.message(
                    {
                        "request": "kick",
                        "room": room.id,
                        "secret": room.secret,
                        "id": participant_id,
                    }
                )
            except JanusError as exc:
                if exc.code != NO_SUCH_FEED:
                    raise

    async def close(self) -> None:
        if self._session is not None:
            connection = self._session.connection
            await self._session.destroy()
            await connection.close()
            self._session = self._manager = None
