"""The soak: a server node killed with -9 five times under chat and Yjs load (`make soak`).

Each round starts a node (`tests.support.live.NodeProcess`) on the selected database, puts chat load
(three senders, a subscribed watcher) and Yjs load (a writer streaming numbered words, a
reader) on it, and SIGKILLs it once this round has enough acknowledged messages and relayed
updates. A sender's message in flight at the kill is sent again, with the same key, to the
next node, as a client does. After the last kill one more node serves the catch-up.

Then, from the store and from what the clients saw:
- every acknowledged message is stored, under its acknowledged seq; no key is stored twice;
- the watcher, resuming with ``since`` after every kill, received every stored message
  exactly once: nothing relayed was lost, nothing came twice;
- every word the reader received is in the stored document, and no word is there twice.

Bounded: five kills, a few hundred messages and words per round, loopback only; every wait
uses the suite's bound (`tests.support.waiting`). The figures are printed as one line.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from sqlalchemy import text

from tests.chat.test_chat import connect, token
from tests.documents.test_cluster import node_env
from tests.documents.test_documents import content, new_doc
from tests.support.live import Closed, HubClient, Live, NodeProcess, serve
from tests.support.room import Room, make_room
from tests.support.services import DB_KIND
from tests.support.waiting import WAIT
from tests.support.yjs_client import YjsClient
from twinspace_rt.settings import Settings

KILLS = 5
SENDERS = ("pupil", "pupil_admin", "teacher_admin")
ACKED_PER_ROUND = 150  # acknowledged messages (all senders) before the kill
WORDS_PER_ROUND = 60  # words the reader received before the kill
MOST_WORDS = 5000  # the writer's stream per round; the kill comes long before its end
GONE = (Closed, websockets.ConnectionClosed, ConnectionError)
LIMIT = 4 * KILLS * WAIT  # the whole soak, in seconds: it stops by itself even if a wait hangs


@dataclass
class Tally:
    acked: dict[str, int] = field(default_factory=dict)  # key -> acknowledged seq
    pending: dict[str, str] = field(default_factory=dict)  # sender -> key in flight at a kill
    # Seqs the watcher received, in order; messages are never edited here, so a message's seq
    # is also its version, the position `since` resumes from.
    watched: list[int] = field(default_factory=list)
    relayed: set[str] = field(default_factory=set)  # words the reader received
    numbers: Counter[str] = field(default_factory=Counter)  # next message number per sender


async def send_until_gone(client: HubClient, sender: str, tally: Tally) -> None:
    """Sends numbered messages; a key unacknowledged when the node dies is retried next round."""
    while True:
        key = tally.pending.get(sender)
        if key is None:
            key = tally.pending[sender] = f"{sender}-{tally.numbers[sender]}"
            tally.numbers[sender] += 1
        try:
            ack = await client.ok("chat.send", channel="general", text=f"text of {key}", key=key)
        except GONE:
            return
        assert tally.acked.setdefault(key, ack["seq"]) == ack["seq"], "a retry changed the seq"
        del tally.pending[sender]


async def stream_until_gone(writer: YjsClient, round_: int) -> None:
    for i in range(MOST_WORDS):
        try:
            await writer.type(f"r{round_}w{i};")
        except GONE:
            return
        await asyncio.sleep(0.002)


def words(doc_text: str) -> list[str]:
    return [w for w in doc_text.split(";") if w]


async def one_round(node: NodeProcess, room: Room, tally: Tally, round_: int) -> None:
    """Load on a fresh node until it has acknowledged and relayed enough, then kill -9."""
    watcher = await connect(node, room, "teacher")
    since = tally.watched[-1] if tally.watched else 0
    reply = await watcher.ok("chat.subscribe", channels={"general": since})
    assert reply["channels"]["general"]["recovered"], reply
    senders = [await connect(node, room, role) for role in SENDERS]
    writer = await YjsClient.connect(node.url, room.project_id, "story", token(room, "pupil"))
    reader = await YjsClient.connect(node.url, room.project_id, "story", token(room, "teacher"))
    for client in (writer, reader):
        async with asyncio.timeout(WAIT):
            await client.synced.wait()
    acked_before = len(tally.acked)
    load = [
        asyncio.create_task(send_until_gone(c, r, tally))
        for c, r in zip(senders, SENDERS, strict=True)
    ]
    load.append(asyncio.create_task(stream_until_gone(writer, round_)))

    def this_round() -> int:
        return sum(w.startswith(f"r{round_}w") for w in words(str(reader.text)))

    await reader.until(lambda: this_round() >= WORDS_PER_ROUND)
    async with asyncio.timeout(WAIT):
        while len(tally.acked) - acked_before < ACKED_PER_ROUND:
            await asyncio.sleep(0.01)
    node.kill()
    async with asyncio.timeout(WAIT):
        await asyncio.gather(*load)
    for client in [watcher, *senders]:
        await client.closed()
    for yjs in (writer, reader):
        await yjs.closed()
    tally.relayed.update(words(str(reader.text)))
    tally.watched.extend(p["message"]["seq"] for p in watcher.of_type("chat.message"))


async def catch_up(node: NodeProcess, room: Room, tally: Tally) -> None:
    """A last node: the senders' messages in flight at the last kill, and the watcher's gap."""
    for sender in SENDERS:
        client = await connect(node, room, sender)
        if key := tally.pending.pop(sender, None):
            ack = await client.ok("chat.send", channel="general", text=f"text of {key}", key=key)
            assert tally.acked.setdefault(key, ack["seq"]) == ack["seq"]
        await client.close()
    watcher = await connect(node, room, "teacher")
    reply = await watcher.ok("chat.subscribe", channels={"general": tally.watched[-1]})
    assert reply["channels"]["general"]["recovered"], reply
    tally.watched.extend(p["message"]["seq"] for p in watcher.of_type("chat.message"))
    await watcher.close()


async def stored_messages(helper: Live, room: Room) -> list[tuple[int, str]]:
    async with helper.services.db.engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT m.seq, m.client_key FROM chat_messages m"
                " JOIN chat_channels c ON c.id = m.channel_id"
                " WHERE c.project_id = :project AND c.name = 'general' ORDER BY m.seq"
            ),
            {"project": room.project_id},
        )
        return [(int(seq), str(key)) for seq, key in rows.all()]


async def test_kill_9_five_times_under_chat_and_yjs_load(
    settings: Settings, tmp_path: Path
) -> None:
    tally = Tally()
    env = node_env(settings, tmp_path / "node") | {
        "TWINSPACE_CHAT_RATE_PER_SECOND": "1000",
        "TWINSPACE_CHAT_RATE_BURST": "1000",
    }
    async with asyncio.timeout(LIMIT), serve(settings) as helper:
        room = await make_room(helper.http, helper.services)
        doc = await new_doc(helper, room)
        for round_ in range(KILLS + 1):
            node = NodeProcess(env, tmp_path)
            try:
                await node.ready()
                if round_ < KILLS:
                    await one_round(node, room, tally, round_)
                else:
                    await catch_up(node, room, tally)
            finally:
                node.stop()
        stored = await stored_messages(helper, room)
        document = await content(helper, room, doc["id"])

    stored_seq = dict((key, seq) for seq, key in stored)
    lost_chat = [k for k, seq in tally.acked.items() if stored_seq.get(k) != seq]
    twice_stored = [k for k, n in Counter(key for _, key in stored).items() if n > 1]
    twice_watched = [s for s, n in Counter(tally.watched).items() if n > 1]
    unwatched = sorted({seq for seq, _ in stored} - set(tally.watched))
    stored_words = Counter(words(document))
    lost_words = sorted(tally.relayed - set(stored_words))
    twice_words = [w for w, n in stored_words.items() if n > 1]
    lost = len(lost_chat) + len(unwatched) + len(lost_words)
    duplicated = len(twice_stored) + len(twice_watched) + len(twice_words)
    print(
        f"\nsoak on {DB_KIND}: kills={KILLS} acknowledged={len(tally.acked)}"
        f" stored={len(stored)} watched={len(tally.watched)} relayed_updates={len(tally.relayed)}"
        f" stored_words={len(stored_words)} lost={lost} duplicated={duplicated}"
    )
    assert lost_chat == [], "acknowledged messages lost (or stored under another seq)"
    assert twice_stored == [], "a key stored twice"
    assert twice_watched == [], "the watcher received a message twice"
    assert unwatched == [], "stored messages the watcher never received"
    assert lost_words == [], "updates the reader received are not in the stored document"
    assert twice_words == [], "a word is in the document twice"
    assert len(tally.acked) >= KILLS * ACKED_PER_ROUND
