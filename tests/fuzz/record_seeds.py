"""Records the fuzzer's seeds from real clients talking to a real server: `seeds.json`.

The Node scenario `record` (tests/interop: stock yjs + y-websocket) edits a text and a rich-text
document with two providers and records every frame they send; a pycrdt peer (the suite's Yjs
client) does the same; a hub client sends the requests a browser sends. Run it again with
`python -m tests.fuzz.record_seeds` when the clients or the protocol change.
"""

from __future__ import annotations

import asyncio
import base64
import json
import tempfile
from pathlib import Path
from typing import Any

from pycrdt import XmlElement, XmlText

from tests.documents.test_interop import run_node, server
from tests.fuzz.engine import SEEDS, settings_for
from tests.support.live import HubClient, serve
from tests.support.room import make_room
from tests.support.yjs_client import YjsClient
from twinspace_rt.storage.engine import Database
from twinspace_rt.storage.migrate import upgrade


async def record() -> dict[str, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{tmp}/seeds.db"
        db = Database(url)
        await upgrade(db)
        await db.close()
        async with serve(settings_for(Path(tmp) / "data", url)) as live:
            room = await make_room(live.http, live.services, "seed")
            tokens = [
                room.headers[role]["Authorization"].removeprefix("Bearer ")
                for role in ("pupil", "teacher")
            ]
            frames: list[str] = []
            for name, kind in (("t", "text"), ("r", "richtext")):
                await live.http.post(
                    f"/api/projects/{room.project_id}/docs",
                    json={"name": name, "title": name, "kind": kind},
                    headers=room.headers["teacher"],
                )
                result = await run_node(
                    "record",
                    server=server(live, room.project_id),
                    doc=name,
                    tokens=tokens,
                    kind=kind,
                )
                frames += result["frames"]
            frames += await _pycrdt_frames(live.url, room.project_id, tokens[0])
            hub = await _hub_requests(live.url, room.project_id, tokens[1])
    return {"yjs": frames, "hub": hub}


async def _pycrdt_frames(url: str, project_id: int, token: str) -> list[str]:
    sent: list[bytes] = []
    client = await YjsClient.connect(url, project_id, "r", token)
    original = client.socket.send

    async def send(frame: Any) -> None:
        sent.append(frame)
        await original(frame)

    client.socket.send = send  # type: ignore[method-assign]
    await client.synced.wait()
    await client.edit(
        lambda doc: client.fragment.children.append(
            XmlElement("paragraph", {"align": "left"}, contents=[XmlText("from pycrdt")])
        )
    )
    await client.set_cursor({"user": {"name": "py", "color": "#000"}, "cursor": {"anchor": 2}})
    await client.close()
    return [base64.b64encode(f).decode() for f in sent]


async def _hub_requests(url: str, project_id: int, token: str) -> list[str]:
    hub = await HubClient.connect(url, project_id, token)
    sent: list[str] = []
    original = hub.socket.send

    async def send(text: Any) -> None:
        sent.append(text)
        await original(text)

    hub.socket.send = send  # type: ignore[method-assign]
    await hub.ok("chat.channels")
    await hub.ok("chat.subscribe", channels={"general": None})
    posted = await hub.ok("chat.send", channel="general", text="hello **all**", key="k1")
    seq = posted["seq"]
    for kind, fields in [
        ("chat.history", {"channel": "general", "limit": 10}),
        ("chat.edit", {"channel": "general", "seq": seq, "text": "hello again"}),
        ("chat.react", {"channel": "general", "seq": seq, "emoji": "👍"}),
        ("chat.read", {"channel": "general", "seq": seq}),
        ("chat.unread", {}),
        ("typing", {"channel": "general"}),
        ("presence.update", {"status": "active", "location": {"kind": "doc", "ref": "r"}}),
        ("forum.subscribe", {"streams": {"forum": None, "bulletin": 0}}),
        ("rtc.state", {}),
        ("ping", {}),
        ("chat.delete", {"channel": "general", "seq": seq}),
    ]:
        await hub.request(kind, **fields)
    await hub.close()
    return sent


if __name__ == "__main__":
    seeds = asyncio.run(record())
    SEEDS.write_text(json.dumps(seeds, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(seeds['yjs'])} y-websocket frames, {len(seeds['hub'])} hub requests")
