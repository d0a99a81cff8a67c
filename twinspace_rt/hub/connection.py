"""One hub socket: its identity in the room, its channel cursors and its request budget.

Frames go straight to the socket's transport, in push order (``transport.DirectSocket``); a
socket too slow to take them is closed with 4408 and resumes by ``seq``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from starlette.websockets import WebSocket

from twinspace_rt.auth.budget import TokenBucket
from twinspace_rt.auth.policy import Member
from twinspace_rt.storage.models import User
from twinspace_rt.ws.transport import DirectSocket, FrameWriter, OutFrame

if TYPE_CHECKING:
    from twinspace_rt.hub.replay import Backlog

log = logging.getLogger(__name__)

# A chat channel's id, or the name of a project stream (``forum``, ``bulletin``).
CursorKey = int | str


@dataclass
class StreamCursor:
    """Which of a stream's change numbers this socket has been sent (a chat channel, a forum).

    Every change in a channel has its own number, and a reader is sent every one of them, so
    "all up to ``contiguous``, plus ``ahead``" describes exactly what the socket holds. While the
    store is being replayed, live changes wait in ``pending``.
    """

    name: str
    # Whether a member may still read the stream: asked again after every role change.
    readable: Callable[[Member], bool]
    contiguous: int = 0
    ahead: set[int] = field(default_factory=set)
    replaying: bool = True
    pending: list[tuple[int, OutFrame]] = field(default_factory=list)
    # Reads the stream's stored changes for replay; set by whoever subscribes.
    backlog: Backlog | None = None

    def accept(self, version: int) -> bool:
        """True, and recorded as sent, when this change is new to the socket."""
        if version == self.contiguous + 1 and not self.ahead:
            self.contiguous = version
            return True
        if version <= self.contiguous or version in self.ahead:
            return False
        self.ahead.add(version)
        while self.contiguous + 1 in self.ahead:
            self.contiguous += 1
            self.ahead.discard(self.contiguous)
        return True

    def finish_replay(self, up_to: int) -> list[OutFrame]:
        """The replay covered everything up to ``up_to``; returns the held-back frames to send."""
        self.contiguous = max(self.contiguous, up_to)
        self.ahead = {v for v in self.ahead if v > self.contiguous}
        frames = [frame for version, frame in self.pending if self.accept(version)]
        self.pending.clear()
        self.replaying = False
        return frames


class Connection(DirectSocket):
    def __init__(
        self,
        websocket: WebSocket,
        writer: FrameWriter,
        user: User,
        member: Member,
        expires_at: datetime,
        buffer_limit: int,
        bucket: TokenBucket,
        bytes_bucket: TokenBucket,
    ) -> None:
        super().__init__(websocket, writer, buffer_limit)
        self.id = uuid.uuid4().hex
        # Every frame is charged here by its size before it is parsed.
        self.bytes_bucket = bytes_bucket
        # Only what the socket's life needs of the account, not the ORM row.
        self.display_name = user.display_name
        self.token_generation = user.token_generation
        self.member = member
        self.expires_at = expires_at
        self.bucket = bucket
        # Request types with a budget of their own (a video participant's burst of candidates).
        self.buckets: dict[str, TokenBucket] = {}
        self.refusals = 0
        self.status = "active"
        self.location: dict[str, Any] = {"kind": "home", "ref": None}
        # Who may see the name of that place (`hub/presence.py`): any one of these actions.
        self.location_seen_by: list[str] = []
        self.device = websocket.headers.get("user-agent", "")[:80]
        self.cursors: dict[CursorKey, StreamCursor] = {}
        # Set once the socket joins a video session: its close then gives up or holds the seat.
        self.in_video = False
        self.last_heard = time.monotonic()

    @property
    def user_id(self) -> int:
        return self.member.user_id

    def deliver(self, cursor: StreamCursor, version: int, frame: OutFrame) -> None:
        """A live change of one of this socket's streams: held back while the stream replays,
        dropped if already sent."""
        if cursor.replaying:
            cursor.pending.append((version, frame))
        elif cursor.accept(version):
            self.push_frame(frame)
