"""The live feeds of an SFU session: kept in the session state, and told to those who may
subscribe to them.

Each participant's live camera and screen feed is a column of its seat (the feed's Janus id),
so `rtc.session` says who has which feed live (``feeds``), and a participant who joins late or
is moved into a group subscribes from the state alone. A feed is set once its media reached
Janus, and cleared when it is unpublished, when Janus hangs it up (the peer went away), when its
participant leaves, is removed or is moved (`state.leave`, `breakouts`), and when the session
moves to another Janus (`sfu_placement`). Each change goes out as the state first, then as
``rtc.feed`` to the joined participants of the feed's room alone (its breakout group, a visiting
moderator included): nobody else could subscribe to it.

A participant back from a dropped socket publishes again while its old feed is still live: the
new feed takes the source's other id (`sfu_rooms.SECOND`); once it is up, every node switches
its subscriptions of the old feed to it (`sfu_cluster.switch`), and the state names the new
feed. For the subscribers nothing changes but the media.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col

from signaling.sfu import Sfu
from signaling.sfu_rooms import JanusRoom, Source, feed_owner
from signaling.state import SessionState, lock, lock_by_id
from signaling.telling import announce
from twinspace_rt.errors import AppError
from twinspace_rt.hub import events
from twinspace_rt.hub.hub import Hub
from twinspace_rt.hub.protocol import push
from twinspace_rt.storage.video_models import Participant, ParticipantState, VideoSession


def live_feed(participant: Participant, source: Source) -> int | None:
    return participant.camera_feed if source == "camera" else participant.screen_feed


def _set(participant: Participant, source: Source, feed: int | None) -> None:
    if source == "camera":
        participant.camera_feed = feed
    else:
        participant.screen_feed = feed


def clear(participant: Participant) -> None:
    """The participant's feeds ended (it moved to another room, or the room moved)."""
    participant.camera_feed = participant.screen_feed = None


async def tell(
    hub: Hub,
    state: SessionState,
    participant_id: int,
    sources: tuple[Source, ...],
    live: bool,
    group: int | None,
) -> None:
    """``rtc.feed`` to the joined participants of the feed's room (``group``)."""
    listeners = [
        p.connection_id
        for p in state.participants
        if p.state == ParticipantState.joined and p.breakout == group and p.connection_id
    ]
    if not listeners:
        return
    for source in sources:
        frame = push("rtc.feed", participant_id=participant_id, source=source, live=live)
        await hub.publish(state.video.project_id, events.to_connections(listeners, frame))


def _now_and_grace(hub: Hub) -> tuple[datetime, float]:
    return datetime.now(UTC), hub.settings.rtc_rejoin_grace_seconds


async def went_live(hub: Hub, sfu: Sfu, video: VideoSession, room: JanusRoom, feed: int) -> None:
    """A local feed's media reached Janus: the state names it, and its room is told. A feed
    whose participant has left, or moved out of the room, since it was published stays
    unannounced."""
    participant_id, source = feed_owner(feed)
    assert video.id is not None
    async with hub.db.transaction() as tx:
        state = await lock(tx, lock_by_id(video.id), *_now_and_grace(hub))
        mine = next((p for p in state.seated() if p.id == participant_id), None)
        if state.video.active_project_id is None or mine is None:
            return
        if sfu.room(state.video, mine.breakout).id != room.id:
            return
        _set(mine, source, feed)
    await announce(hub, video.project_id, state)
    await tell(hub, state, participant_id, (source,), True, mine.breakout)


async def ended(
    hub: Hub,
    sfu: Sfu,
    project_id: int,
    participant_id: int,
    source: Source,
    *,
    feed: int | None = None,
    room_id: int | None = None,
) -> None:
    """A participant's feed of one source is no longer live (unpublished, or, given ``feed``
    and ``room_id``, that very feed hung up in that room: a feed since replaced stays)."""
    where = col(VideoSession.active_project_id) == project_id
    async with hub.db.transaction() as tx:
        try:
            state = await lock(tx, where, *_now_and_grace(hub))
        except AppError:
            return  # the session ended meanwhile
        mine = next((p for p in state.seated() if p.id == participant_id), None)
        if mine is None or live_feed(mine, source) is None:
            return
        if feed is not None and live_feed(mine, source) != feed:
            return
        if room_id is not None and sfu.room(state.video, mine.breakout).id != room_id:
            return
        _set(mine, source, None)
    await announce(hub, project_id, state)
    await tell(hub, state, participant_id, (source,), False, mine.breakout)
