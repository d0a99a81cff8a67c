"""The Python comparison servers, each run in its own process by ``servers.py``.

``socketio``: what a Python developer would write instead of TwinSpace RT's hub: python-socketio's
AsyncServer on uvicorn, a ``join`` event that enters a room and a ``chat`` event re-emitted to
the room. ``websockets``: the floor, a bare broadcast server with no auth, storage or envelope.
``pycrdt``: the Python Yjs peer, pycrdt-websocket's ASGI server on uvicorn, one room per URL
path, as its documentation runs it. None of them persists anything.

    python bench/baselines.py socketio --port 8001
    python bench/baselines.py websockets --port 8002
    python bench/baselines.py pycrdt --port 8003
"""

from __future__ import annotations

import argparse
import asyncio
from collections import defaultdict
from typing import Any

import socketio
import uvicorn
import uvloop
import websockets
from pycrdt.websocket import ASGIServer, WebsocketServer
from websockets.asyncio.server import ServerConnection, serve

HOST = "127.0.0.1"


def socketio_app() -> socketio.ASGIApp:
    sio = socketio.AsyncServer(async_mode="asgi")

    async def join(sid: str, room: str) -> str:
        await sio.enter_room(sid, room)
        return "ok"

    async def chat(sid: str, data: dict[str, Any]) -> None:
        await sio.emit("chat", data, room=data["room"])

    sio.on("join", join)
    sio.on("chat", chat)
    return socketio.ASGIApp(sio)


async def websockets_main(port: int) -> None:
    rooms: defaultdict[str, set[ServerConnection]] = defaultdict(set)

    async def handler(socket: ServerConnection) -> None:
        room = str(await socket.recv())
        members = rooms[room]
        members.add(socket)
        try:
            await socket.send("ok")
            async for message in socket:
                websockets.broadcast(members, message)
        finally:
            members.discard(socket)

    async with serve(handler, HOST, port):
        await asyncio.Future()


async def pycrdt_main(port: int) -> None:
    """The WebsocketServer must run (its task group) around uvicorn, not inside a request."""
    rooms = WebsocketServer(auto_clean_rooms=True)
    config = uvicorn.Config(ASGIServer(rooms), host=HOST, port=port, log_level="warning")
    async with rooms:
        await uvicorn.Server(config).serve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["socketio", "websockets", "pycrdt"])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    if args.kind == "socketio":
        uvicorn.run(socketio_app(), host=HOST, port=args.port, log_level="warning")
    elif args.kind == "pycrdt":
        uvloop.run(pycrdt_main(args.port))
    else:
        uvloop.run(websockets_main(args.port))


if __name__ == "__main__":
    main()
