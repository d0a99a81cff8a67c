"""A private redis-server on its own port, for tests that kill and restart Redis.

The shared Redis on 6379 serves every other test and is never stopped.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess

import redis.asyncio
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from tests.support.services import free_port, service_missing
from tests.support.waiting import WAIT


class RedisServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Starts on the same port every time and returns once it answers PING."""
        try:
            self._process = await asyncio.create_subprocess_exec(
                "redis-server",
                *("--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        except FileNotFoundError as exc:
            service_missing("redis-server", str(exc))
        client = redis.asyncio.Redis(port=self.port, retry=Retry(NoBackoff(), 0))
        try:
            async with asyncio.timeout(WAIT):
                while not await self._answers(client):
                    await asyncio.sleep(0.01)
        finally:
            await client.aclose()

    def freeze(self, frozen: bool = True) -> None:
        """Stops or resumes the process: its sockets stay open but nothing answers."""
        assert self._process is not None
        self._process.send_signal(signal.SIGSTOP if frozen else signal.SIGCONT)

    async def kill(self) -> None:
        if self._process is not None and self._process.returncode is None:
            self._process.send_signal(signal.SIGCONT)
            self._process.kill()
            await self._process.wait()

    @staticmethod
    async def _answers(client: redis.asyncio.Redis) -> bool:
        try:
            return bool(await client.ping())
        except (RedisError, OSError):
            return False


class TcpProxy:
    """A cable between one node and Redis that a test can cut while the other nodes stay linked."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._pipe, "127.0.0.1", self.port)

    async def cut(self) -> None:
        """Refuses new connections and drops the open ones, as a failed link would."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _pipe(
        self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter
    ) -> None:
        try:
            upstream_reader, upstream = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client.transport.abort()
            return
        self._writers.update((client, upstream))

        async def copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                writer.transport.abort()
                self._writers.discard(writer)

        await asyncio.gather(copy(client_reader, upstream), copy(upstream_reader, client))
