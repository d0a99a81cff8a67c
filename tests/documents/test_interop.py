"""Stock Yjs clients in Node (yjs + y-websocket) and y-py against the real server.

`make test` installs `tests/interop` with `npm ci`; without Node or those modules the tests
skip on a laptop and fail on CI (`tests/support/services.py`).
"""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import websockets
from pycrdt import Doc

from tests.documents.test_documents import new_doc, open_doc, stored_text, token
from tests.support.live import Live
from tests.support.room import make_room
from tests.support.services import service_missing
from tests.support.waiting import WAIT
from tests.support.yjs_client import YjsClient
from twinspace_rt.documents import codec
from twinspace_rt.documents.codec import MessageType, YSyncMessageType

INTEROP = Path(__file__).resolve().parents[1] / "interop"


async def run_node(scenario: str, **args: Any) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (INTEROP / "node_modules" / "y-websocket").exists():
        service_missing("Node with tests/interop installed", "run `make test` (npm ci)")
    assert node is not None
    process = await asyncio.create_subprocess_exec(
        node,
        str(INTEROP / "scenarios.mjs"),
        scenario,
        json.dumps({"timeoutMs": WAIT * 1000, **args}),
        cwd=INTEROP,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        # Node gives up first (timeoutMs) and says so; this bound only catches a hung process.
        async with asyncio.timeout(WAIT + 30):
            out, err = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, (out.decode(), err.decode()[-2000:])
    return json.loads(out.decode().strip().splitlines()[-1])  # type: ignore[no-any-return]


def server(live: Live, project_id: int) -> str:
    return live.url.replace("http://", "ws://") + f"/yjs/{project_id}"


async def test_two_js_clients_and_a_python_client_converge(live: Live) -> None:
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    python = await open_doc(live, room, "teacher")
    edits = 30
    expected = sum(len(f"a{i} ") + len(f"b{i} ") + len(f"py{i} ") for i in range(edits))
    node = asyncio.create_task(
        run_node(
            "converge",
            server=server(live, room.project_id),
            doc="story",
            tokens=[token(room, "pupil"), token(room, "pupil_admin")],
            edits=edits,
            expectedLength=expected,
        )
    )
    for i in range(edits):
        await python.type(f"py{i} ")
        await asyncio.sleep(0.005)
    result = await node
    await python.until(lambda: len(str(python.text)) == expected)
    assert result["a"] == result["b"] == str(python.text)
    await stored_text(live, room, doc["id"], str(python.text))


async def test_a_js_client_edits_offline_and_merges_on_reconnect(live: Live) -> None:
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    result = await run_node(
        "offline",
        server=server(live, room.project_id),
        doc="story",
        tokens=[token(room, "pupil"), token(room, "teacher")],
    )
    assert result["a"] == result["b"]
    await stored_text(live, room, doc["id"], result["a"])


async def test_a_read_only_js_clients_edits_never_reach_others(live: Live) -> None:
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    result = await run_node(
        "readonly",
        server=server(live, room.project_id),
        doc="story",
        tokens=[token(room, "pupil"), token(room, "observer")],
    )
    assert result["writer"] == "written"
    assert "READER" in result["reader"]
    assert any("forbidden" in d for d in result["denials"])
    await stored_text(live, room, doc["id"], "written")


async def test_a_stock_client_cannot_name_its_cursor_after_someone_else(live: Live) -> None:
    room = await make_room(live.http, live.services)
    await new_doc(live, room)
    result = await run_node(
        "names",
        server=server(live, room.project_id),
        doc="story",
        tokens=[token(room, "pupil"), token(room, "teacher")],
    )
    user = result["seen"]["user"]
    assert user == {"name": "r pupil", "color": "#ff0000", "id": room.user_ids["pupil"]}


async def test_y_py_syncs_with_the_others(live: Live) -> None:
    try:
        import y_py
    except ImportError:
        pytest.skip("y-py has no wheel for this Python (installed only where it exists)")
    room = await make_room(live.http, live.services)
    doc = await new_doc(live, room)
    # y-py (an older Yrs) reads client ids as 32-bit, as Yjs makes them; pycrdt's are wider.
    pycrdt_peer = await YjsClient.connect(
        live.url, room.project_id, "story", token(room, "pupil"), Doc(client_id=0x2F00D)
    )
    await pycrdt_peer.type("from pycrdt ")
    await stored_text(live, room, doc["id"], "from pycrdt ")
    url = server(live, room.project_id) + f"/story?token={token(room, 'teacher')}"
    async with websockets.connect(url) as socket:
        ydoc = y_py.YDoc()
        ytext = ydoc.get_text("content")
        await socket.send(codec.step1(bytes(y_py.encode_state_vector(ydoc))))
        async with asyncio.timeout(WAIT):
            while str(ytext) != "from pycrdt ":
                message = codec.decode(await socket.recv())  # type: ignore[arg-type]
                if message.sync_type is YSyncMessageType.SYNC_STEP1:
                    reply = y_py.encode_state_as_update(ydoc, message.payload)
                    await socket.send(codec.step2(bytes(reply)))
                elif message.type is MessageType.sync:
                    y_py.apply_update(ydoc, message.payload)
        before = y_py.encode_state_vector(ydoc)
        with ydoc.begin_transaction() as txn:
            ytext.extend(txn, "and from y-py")
        await socket.send(codec.update_message(bytes(y_py.encode_state_as_update(ydoc, before))))
        await pycrdt_peer.until(lambda: str(pycrdt_peer.text) == "from pycrdt and from y-py")
    await stored_text(live, room, doc["id"], "from pycrdt and from y-py")
