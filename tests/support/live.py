"""Real servers and real WebSocket clients for the hub tests.

`serve` runs the app under uvicorn inside the test's event loop on an ephemeral port;
`NodeProcess` runs `twinspace-rt serve` as a separate process, for tests that kill a node.
`HubClient` is what a browser would be: a `websockets` connection speaking the hub protocol.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets
from websockets.asyncio.client import ClientConnection

from tests.support.log_capture import reattach
from tests.support.services import free_port
from tests.support.waiting import WAIT
from twinspace_rt.app import create_app
from twinspace_rt.services import Services
from twinspace_rt.settings import Settings
from twinspace_rt.ws.transport import uvicorn_config

CLI = shutil.which("twinspace-rt") or str(Path(sys.executable).parent / "twinspace-rt")


@dataclass
class Live:
    url: str
    services: Services
    http: httpx.AsyncClient


@asynccontextmanager
async def serve(
    settings: Settings, stock_uvicorn: bool = False, host: str = "127.0.0.1"
) -> AsyncIterator[Live]:
    """A real uvicorn server on an ephemeral port, with an HTTP client pointed at it.

    ``stock_uvicorn`` runs it as a bare ``uvicorn`` would, without the hub's frame writer.
    ``host``: another local address, for a browser in a network namespace (the SFU's test).
    """
    app = create_app(settings)
    if stock_uvicorn:
        config = uvicorn.Config(app, host=host, port=0, log_level="critical")
    else:
        config = uvicorn_config(app, settings, host, 0, "warning")
    reattach()
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(WAIT):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://{host}:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=WAIT) as http:
            yield Live(url, app.state.services, http)
    finally:
        server.should_exit = True
        async with asyncio.timeout(WAIT):
            await task


class NodeProcess:
    """A whole server node in its own process, so a test can SIGKILL it."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("TWINSPACE_")}
        full_env.update(env)
        self.process = subprocess.Popen(
            [CLI, "serve", "--port", str(self.port)],
            env=full_env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    async def ready(self) -> None:
        async with asyncio.timeout(WAIT), httpx.AsyncClient(base_url=self.url) as http:
            while True:
                assert self.process.poll() is None, "node exited during start-up"
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(WAIT)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.kill()


class Closed(Exception):
    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"closed {code}: {reason}")
        self.code = code
        self.reason = reason


PONG = json.dumps({"type": "pong"})


class HubClient:
    """Sends requests with ids, matches their replies, and keeps server pushes in order.

    It answers the server's keepalive ``ping`` with ``pong`` as the web client does, so a test
    that waits a long time on something else (peers starting on a loaded machine) does not see
    its socket dropped as idle; ``silent`` clients do not, to test that rule."""

    _ids = itertools.count(1)

    def __init__(self, socket: ClientConnection, silent: bool = False) -> None:
        self.socket = socket
        self.silent = silent
        self.pushes: list[dict[str, Any]] = []
        self._replies: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._arrived = asyncio.Condition()
        self.close_code: int | None = None
        self.close_reason = ""
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(
        cls,
        base_url: str,
        project_id: int,
        token: str | None,
        headers: dict[str, str] | None = None,
        silent: bool = False,
    ) -> HubClient:
        url = base_url.replace("http://", "ws://") + f"/ws/projects/{project_id}"
        if token is not None:
            url += f"?token={token}"
        socket = await websockets.connect(url, additional_headers=headers or {}, max_size=2**22)
        return cls(socket, silent)

    async def _read(self) -> None:
        try:
            async for text in self.socket:
                frame = json.loads(text)
                if frame["type"] == "ping" and not self.silent:
                    await self.socket.send(PONG)
                request_id = frame.get("id")
                if frame["type"] in ("ack", "error") and request_id in self._replies:
                    self._replies.pop(request_id).set_result(frame)
                else:
                    async with self._arrived:
                        self.pushes.append(frame)
                        self._arrived.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.socket.close_code
            self.close_reason = self.socket.close_reason or ""
            for future in self._replies.values():
                if not future.done():
                    future.set_exception(Closed(self.close_code, self.close_reason))
            async with self._arrived:
                self._arrived.notify_all()

    async def request(self, kind: str, **fields: Any) -> dict[str, Any]:
        request_id = str(next(self._ids))
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._replies[request_id] = future
        await self.socket.send(json.dumps({"type": kind, "id": request_id, **fields}))
        async with asyncio.timeout(WAIT):
            return await future

    async def ok(self, kind: str, **fields: Any) -> dict[str, Any]:
        reply = await self.request(kind, **fields)
        assert reply["type"] == "ack", reply
        return reply

    async def wait_for(
        self, kind: str, count: int = 1, timeout: float = WAIT, **match: Any
    ) -> list[dict[str, Any]]:
        """The first `count` pushes of a type (and matching fields), waiting if needed."""

        def found() -> list[dict[str, Any]]:
            return [
                p
                for p in self.pushes
                if p["type"] == kind and all(p.get(k) == v for k, v in match.items())
            ]

        async with asyncio.timeout(timeout), self._arrived:
            while len(found()) < count:
                if self._reader.done():
                    raise Closed(self.close_code, self.close_reason)
                await self._arrived.wait()
        return found()[:count]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [p for p in self.pushes if p["type"] == kind]

    async def closed(self, timeout: float = WAIT) -> int | None:
        async with asyncio.timeout(timeout):
            await self._reader
        return self.close_code

    async def close(self) -> None:
        await self.socket.close()
        await self._reader
