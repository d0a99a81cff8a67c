"""One open document on this node: its pycrdt replica, awareness and local sockets.

The document owns its state: the replica, its proof, awareness, sockets and counters. What
happens to a change in order (prove, store, publish, compact, unload) is the registry's
(`rooms.py`), which calls in here at each step; nothing here calls back up.

Every change reaches the replica the same way, through `handle`, the broker handler of the
document's topic: an update is first committed to the log, then published, and the broker calls
`handle` on this node at once and on every other node that has the document open. So the
replica only ever holds stored content, and step 2 only ever sends stored content.

Before an update is queued for the log it is proven on a scratch replica (`guard.Proof`): what
does not apply, a Yrs panic included, closes its sender with 4422 and is neither stored nor
relayed. Awareness states are bound to the socket's member: a cursor's name is the member's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

from pycrdt import Awareness, Doc

from twinspace_rt.documents import codec, store
from twinspace_rt.documents.connection import DocConnection
from twinspace_rt.documents.guard import BadUpdate, Proof, diff_against, refusing
from twinspace_rt.storage.engine import Database
from twinspace_rt.ws.close_codes import CloseCode
from twinspace_rt.ws.transport import OutFrame

log = logging.getLogger(__name__)

# A y-websocket client has one client id; a few more allow for a client that reset its doc.
AWARENESS_CLIENTS_MAX = 8


@dataclass(frozen=True)
class DocRef:
    id: int
    project_id: int
    kind: str


def topic(document_id: int) -> str:
    return f"doc:{document_id}"


class LiveDocument:
    def __init__(self, ref: DocRef, db: Database) -> None:
        self.ref = ref
        self.doc: Doc[Any] = Doc()
        self.awareness = Awareness(self.doc)
        self.awareness.set_local_state(None)  # the server itself has no cursor
        self.proof = Proof(self.doc)
        self.connections: dict[str, DocConnection] = {}
        self.holds = 0  # REST requests using the room: it is not unloaded under them
        self.log_rows = 0
        self.log_bytes = 0
        self.edited_at: float | None = None  # monotonic time of the last edit since a version
        self.loaded: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._db = db
        self._reloading: asyncio.Task[None] | None = None
        # Frames relayed during this turn of the event loop, with the socket each came from.
        self._outbox: list[tuple[OutFrame, str | None]] = []

    @property
    def idle(self) -> bool:
        return not self.connections and not self.holds

    async def load(self) -> None:
        """Called after subscribing to the topic, so no update is missed while reading."""
        try:
            stored, content = await store.load(self._db, self.ref.id)
            with refusing("the stored document"):
                self.doc.apply_update(content)
            self.proof.reset()
        except Exception as exc:
            self.loaded.set_exception(exc)
            self.loaded.exception()  # retrieved here; waiters get it from `loaded`
            raise
        self.log_rows, self.log_bytes = len(stored.updates), stored.log_bytes
        self.loaded.set_result(None)

    async def reload(self) -> None:
        """After a broker gap: reads the store again and sends every socket what was missed."""
        before = self.doc.get_state()
        _, content = await store.load(self._db, self.ref.id)
        with refusing("the stored document"):
            self.doc.apply_update(content)
        self.proof.reset()
        missed = self.doc.get_update(before)
        if missed != codec.EMPTY_UPDATE:
            frame = OutFrame(codec.update_message(missed))
            for conn in list(self.connections.values()):
                conn.push_frame(frame)

    def greet(self, conn: DocConnection) -> None:
        """Step 1 (so the client's offline edits flow back) and who else is here."""
        conn.push(codec.step1(self.doc.get_state()))
        if self.awareness.states:
            states = self.awareness.encode_awareness_update(list(self.awareness.states))
            conn.push(codec.awareness_message(states))

    def answer_step1(self, conn: DocConnection, state_vector: bytes) -> None:
        conn.push(codec.step2(diff_against(self.doc, state_vector)))

    def send_awareness(self, conn: DocConnection) -> None:
        states = self.awareness.encode_awareness_update(list(self.awareness.states))
        conn.push(codec.awareness_message(states))

    def prove(self, update: bytes) -> bool:
        """Proves an update on the scratch replica before it may be stored (`BadUpdate` if it
        does not apply); False when it carries nothing."""
        if update == codec.EMPTY_UPDATE:
            return False
        self.proof.prove(update)
        return True

    def not_stored(self, update: bytes) -> None:
        """A proven update was refused by the store: the scratch replica forgets it."""
        self.proof.dropped(update)

    def stored(self, update: bytes) -> None:
        """A proven update is in the log: it counts towards compaction and the next version."""
        self.log_rows += 1
        self.log_bytes += len(update)
        self.edited_at = time.monotonic()

    def own_awareness(self, conn: DocConnection, payload: bytes) -> bytes | None:
        """The socket's own states that are news, each bound to the socket's member, to be
        published; None when there are none.

        A state's ``user`` is overwritten with the member's name and id: a pupil's cursor cannot
        read "Ms. Sousa". States of client ids that other sockets introduced are never relayed
        from this one: stock clients echo what they hear (dropped, as old news), and a newer
        clock for someone else's id would be a forgery.
        """
        entries = codec.decode_awareness(payload)
        own = []
        for entry in entries:
            if entry.client_id not in conn.client_ids:
                if entry.client_id in self.awareness.states or entry.state == "null":
                    continue  # someone else's (an echo), or the removal of an unknown id
                conn.client_ids.add(entry.client_id)
            if entry.state == "null":
                conn.client_ids.discard(entry.client_id)
            if self._is_news(entry):
                own.append(
                    codec.AwarenessEntry(entry.client_id, entry.clock, self._bound(conn, entry))
                )
        if len(conn.client_ids) > AWARENESS_CLIENTS_MAX:
            raise codec.Malformed("too many awareness client ids on one socket")
        if not own:
            # An echo: every socket here was sent these states already, and a stock client
            # ignores a clock it has seen. With 50 editors, relaying echoes was 49 x 50
            # frames for each cursor renewal.
            return None
        return codec.encode_awareness(own)

    @staticmethod
    def _bound(conn: DocConnection, entry: codec.AwarenessEntry) -> str:
        if entry.state == "null":
            return entry.state
        state = json.loads(entry.state)
        user = state.get("user")
        user = dict(user) if isinstance(user, dict) else {}
        user.update(name=conn.display_name, id=conn.user_id)
        state["user"] = user
        if "name" in state:  # some editors keep the name at the top
            state["name"] = conn.display_name
        return json.dumps(state, separators=(",", ":"))  # ASCII: a lone surrogate stays escaped

    def _is_news(self, entry: codec.AwarenessEntry) -> bool:
        """Whether applying ``entry`` changes this replica's awareness (y-protocols' rule)."""
        meta = self.awareness.meta.get(entry.client_id)
        clock = 0 if meta is None else meta["clock"]
        if entry.clock > clock:
            return True
        return (
            entry.clock == clock
            and entry.state == "null"
            and entry.client_id in self.awareness.states
        )

    def forget(self, conn: DocConnection) -> bytes | None:
        """A socket left: the removal of its cursors, to be published to every node."""
        ids = [i for i in conn.client_ids if i in self.awareness.states]
        if not ids:
            return None
        self.awareness.remove_awareness_states(ids, conn.id)
        return self.awareness.encode_awareness_update(ids)

    async def handle(self, event: dict[str, Any]) -> None:
        """The broker handler: in publish order, from this node and every other."""
        kind = event["kind"]
        if kind == "update":
            update: bytes = event["data"]
            try:
                with refusing("a published update"):
                    self.doc.apply_update(update)
            except BadUpdate as exc:
                # Proven on the node that stored it, so only a node without the proof (or a
                # Yrs bug) gets here. It is stored: the next load quarantines it.
                log.error("document %s: %s; not relayed", self.ref.id, exc)
                self.proof.applied(update)
                self.proof.reset()
                return
            self.proof.applied(update)
            self._relay(OutFrame(codec.update_message(update)), event["conn"])
        elif kind == "awareness":
            payload: bytes = event["data"]
            try:
                with refusing("a published awareness update"):
                    self.awareness.apply_awareness_update(payload, "remote")
            except BadUpdate as exc:
                log.error("document %s: %s; not relayed", self.ref.id, exc)
                return
            # To the sender too: a lone client otherwise reconnects.
            self._relay(OutFrame(codec.awareness_message(payload)), None)
        elif kind == "deleted":
            for conn in list(self.connections.values()):
                conn.close(CloseCode.not_found, "the document was deleted")
        elif kind == "gap":
            self._reloading = asyncio.create_task(self.reload())  # the handler must not wait

    def _relay(self, frame: OutFrame, origin: str | None) -> None:
        """Queues a frame for every socket but its origin's; the queue goes out at the end of
        this turn of the event loop. A group commit publishes its updates one after the other
        in one turn, so a socket gets them in one write: with 50 editors, one system call per
        socket per batch rather than per update."""
        if not self._outbox:
            asyncio.get_running_loop().call_soon(self._send_outbox)
        self._outbox.append((frame, origin))

    def _send_outbox(self) -> None:
        outbox, self._outbox = self._outbox, []
        if len(outbox) == 1:
            [(frame, origin)] = outbox
            for conn in list(self.connections.values()):
                if conn.id != origin:
                    conn.push_frame(frame)
            return
        everything = OutFrame.joined([frame for frame, _ in outbox])
        origins = {origin for _, origin in outbox if origin is not None}
        for conn in list(self.connections.values()):
            if conn.id not in origins:
                conn.push_frame(everything)
            elif others := [frame for frame, origin in outbox if origin != conn.id]:
                conn.push_frame(OutFrame.joined(others))
