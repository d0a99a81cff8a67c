"""What names a session's room and feeds on Janus, computed alike on every node.

A room's id, secret and tokens are derived from the node's signing key and the session (HMAC),
so any node computes them and nothing about them is stored. A participant publishes up to two
feeds in the room: the camera (with the microphone), whose Janus id is the participant's id, and
a screen share, whose id is the participant's id plus `SCREEN_BASE`. Each has a second id
(plus `SECOND`): a participant who publishes again while its feed is still live (back from a
dropped socket) publishes under the other id, so both are in the room for the moment its
subscribers are switched over (`switch`, see `signaling/sfu_feeds.py`). Participant ids are
database integers (below 2**31), so the ids never meet, and every id stays a safe integer in
JavaScript.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

from signaling.janus import JanusError
from twinspace_rt.errors import AppError, ErrorCode
from twinspace_rt.storage.video_models import VideoSession

Source = Literal["camera", "screen"]
SOURCES: tuple[Source, ...] = ("camera", "screen")
SCREEN_BASE = 1 << 40
SECOND = 1 << 41

# VideoRoom's error codes (janus_videoroom.c) that are the caller's doing, not Janus's failure.
NO_SUCH_ROOM, NO_SUCH_FEED, UNAUTHORIZED = 426, 428, 433
# Janus core: the SDP did not parse or negotiate.
JSEP_ERRORS = (464, 465, 466)


def feed_id(participant_id: int, source: Source, second: bool = False) -> int:
    return participant_id + (SCREEN_BASE if source == "screen" else 0) + (SECOND if second else 0)


def feed_ids(participant_id: int, source: Source | None = None) -> list[int]:
    """Every id a participant's feeds (of one source, or both) may have in a room."""
    sources = SOURCES if source is None else (source,)
    return [feed_id(participant_id, s, second) for s in sources for second in (False, True)]


def feed_owner(feed: int) -> tuple[int, Source]:
    """The participant and source of a Janus feed id."""
    feed &= ~SECOND
    if feed >= SCREEN_BASE:
        return feed - SCREEN_BASE, "screen"
    return feed, "camera"


def other_feed(feed: int) -> int:
    """The other id of the same participant's feed of the same source."""
    return feed ^ SECOND


@dataclass(frozen=True)
class JanusRoom:
    id: int
    secret: str
    # The Janus instance holding it: the path of its API socket.
    server: str

    def token(self, feed: int) -> str:
        """A feed's entry on the room's allow-list (the camera's is the participant's)."""
        message = f"participant:{feed}".encode()
        return hmac.new(self.secret.encode(), message, hashlib.sha256).hexdigest()


def room_of(signing_key: str, video: VideoSession, group: int | None = None) -> JanusRoom:
    """The session's room (or one of its breakout groups'): a 52-bit id (a safe integer in
    JavaScript too) and its secret. The start time keeps ids apart when a database is reset and
    session ids start over."""
    started = int(video.started_at.timestamp())
    suffix = "" if group is None else f":group:{group}"
    message = f"janus-room:{video.id}:{started}{suffix}".encode()
    digest = hmac.new(signing_key.encode(), message, hashlib.sha256).digest()
    room_id = (int.from_bytes(digest[:8], "big") >> 12) or 1
    return JanusRoom(room_id, digest[8:].hex(), video.media_server or "")


def refusal(error: JanusError) -> AppError:
    """What a Janus failure means to the client; the reason stays in our log only."""
    if error.code in (NO_SUCH_ROOM, NO_SUCH_FEED):
        return AppError(ErrorCode.not_found, "That participant publishes nothing in the session.")
    if error.code in JSEP_ERRORS:
        return AppError(ErrorCode.invalid_sdp, "The media server could not use the description.")
    return AppError(ErrorCode.media_unavailable)


def mids_by_kind(sdp: str) -> dict[str, list[str]]:
    """The ``mid`` of each media section of an offer, by kind: what ``moderate`` names."""
    found: dict[str, list[str]] = {}
    kind: str | None = None
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        elif line.startswith("a=mid:") and kind is not None:
            found.setdefault(kind, []).append(line[len("a=mid:") :].strip())
    return found
