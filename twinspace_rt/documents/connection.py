"""One Yjs socket: who it is, whether it may write, and the awareness ids it announced.

Like a hub socket, its frames go straight to its transport (`ws/transport.DirectSocket`):
fan-out never waits for it, and a socket too slow to take them is closed with 4408; its client
resyncs on reconnect. Each frame is one y-websocket message.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from starlette.websockets import WebSocket

from twinspace_rt.auth.budget import TokenBucket
from twinspace_rt.auth.policy import Action, Member, can
from twinspace_rt.ws.transport import DirectSocket, FrameWriter


class DocConnection(DirectSocket):
    def __init__(
        self,
        websocket: WebSocket,
        writer: FrameWriter,
        member: Member,
        display_name: str,
        token_generation: int,
        expires_at: datetime,
        buffer_limit: int,
        bucket: TokenBucket,
        edit_actions: tuple[Action, ...] = (),
    ) -> None:
        super().__init__(websocket, writer, buffer_limit)
        self.id = uuid.uuid4().hex
        self.member = member
        # What this socket's cursors are called, whatever its client announces (see LiveDocument).
        self.display_name = display_name
        self.token_generation = token_generation
        self.expires_at = expires_at
        self.bucket = bucket
        # What the document's owner asks beyond `doc.edit` (a page: `page.edit`).
        self.edit_actions = edit_actions
        # The awareness client ids this socket announced: removed for everyone when it closes.
        self.client_ids: set[int] = set()

    @property
    def user_id(self) -> int:
        return self.member.user_id

    @property
    def writable(self) -> bool:
        """Asked on every update, so a role change or archiving applies to the next one."""
        return all(can(self.member, a) for a in (Action.doc_edit, *self.edit_actions))
