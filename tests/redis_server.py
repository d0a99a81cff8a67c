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

from tests.services import free_port, service_missing


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
            async with asyncio.timeout(5):
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
