"""What any node does to a session's rooms at Janus with the room's secret alone: create and
destroy them, keep their allow-list, kick a participant's feeds.

Nothing here needs a participant's handles, so the node that takes a teacher's request does it
itself, whichever node holds the handles (`signaling/sfu.py` holds those). Rooms are created
only with the plugin's ``admin_key``, are private (not listed), and carry a room ``secret``
(needed to kick, moderate or destroy) and an allow-list of tokens (needed to join at all).
"""

from __future__ import annotations

from dataclasses import replace

from signaling.janus import Handle, JanusError
from signaling.janus_links import JanusLinks
from signaling.sfu_rooms import NO_SUCH_FEED, NO_SUCH_ROOM, JanusRoom, feed_ids, room_of
from twinspace_rt.settings import Settings
from twinspace_rt.storage.video_models import VideoSession

# Active speaker (Janus's `audiolevel_event`): a feed is "talking" when the average level of its
# last `AUDIO_ACTIVE_PACKETS` audio packets (20 ms each: one second) is louder than
# -`AUDIO_LEVEL_AVERAGE` dBov (Janus's own default level; 127 is silence, 0 the loudest).
AUDIO_ACTIVE_PACKETS = 50
AUDIO_LEVEL_AVERAGE = 25

# Janus asks every publisher for a keyframe this often (`fir_freq`): a subscriber switching to
# another simulcast layer gets it at the next keyframe of that layer, and the one Janus asks for
# at the switch does not always come (Chromium, measured in tests/video/test_sfu_simulcast.py).
KEYFRAME_SECONDS = 3

# Publishers a room admits per seat: a camera and a screen, each under two ids for the moment a
# returning participant's new feed replaces its old one (`sfu_rooms.SECOND`).
FEEDS_PER_SEAT = 4


class SfuRooms:
    """The rooms of this node's Janus instances; idle (never connected) when none is
    configured."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.links = JanusLinks(settings)

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

    async def create_room(self, room: JanusRoom, publishers: int) -> None:
        admin_key = self._settings.rtc_janus_admin_key
        async with self.links.janus(room.server) as (_, manager):
            await manager.message(
                {
                    "request": "create",
                    "room": room.id,
                    "secret": room.secret,
                    "is_private": True,
                    "publishers": FEEDS_PER_SEAT * publishers,
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

    async def withdraw(self, room: JanusRoom, participant_id: int) -> None:
        """The participant's tokens leave the allow-list: no handle of theirs may join again."""
        async with self.links.janus(room.server) as (_, manager):
            for feed in feed_ids(participant_id):
                await self._allowed(manager, room, "remove", feed)

    async def kick(self, room: JanusRoom, participant_id: int) -> None:
        """Removal at the SFU, from any node: the tokens go first, then Janus kicks the feeds
        wherever they are held. The holder detaches its handles when told (`forget`)."""
        await self.withdraw(room, participant_id)
        async with self.links.janus(room.server) as (_, manager):
            for feed in feed_ids(participant_id):
                body = {"request": "kick", "room": room.id, "secret": room.secret}
                try:
                    await manager.message({**body, "id": feed})
                except JanusError as exc:
                    if exc.code != NO_SUCH_FEED:
                        raise
