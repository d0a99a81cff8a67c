"""What ``cluster.py`` runs besides the nodes: its own Redis (so it can restart it on the same
port without touching the machine's) and a fresh PostgreSQL database, dropped at the end."""

from __future__ import annotations

import asyncio
import secrets
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from servers import HOST, Closing, free_port, usage

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
READY_TIMEOUT = 20.0


class RedisServer(Closing):
    """``redis-server`` on a free loopback port, without persistence; ``restart`` kills it
    (SIGKILL, as a crash) and starts a fresh, empty one on the same port."""

    def __init__(self, work_dir: Path) -> None:
        self.port = free_port()
        self.work_dir = work_dir
        self.starts = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/0"

    def start(self) -> None:
        self.starts += 1
        log = self.work_dir / f"redis-{self.starts}.log"
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(log),
            ],
            cwd=self.work_dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {log.read_text(errors='replace')}")
            try:
                with socket.create_connection((HOST, self.port), timeout=1) as probe:
                    probe.sendall(b"PING\r\n")
                    if probe.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer on {self.port}")

    def cpu_seconds(self) -> float:
        return usage(self.process.pid).cpu_seconds if self.process is not None else 0.0

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)

    def close(self) -> None:
        self.kill()

    def restart(self, down_seconds: float) -> None:
        self.kill()
        time.sleep(down_seconds)
        self.start()


@dataclass(frozen=True)
class PgStats:
    """Counters of ``pg_stat_database`` for the bench database (flushed by PostgreSQL within
    about a second; read after the window has settled)."""

    commits: int
    rows_written: int  # inserted + updated + deleted


async def _fetch(url: str, query: str, *args: Any) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return list(await connection.fetch(query, *args))
    finally:
        await connection.close()


class BenchDatabase(Closing):
    """``tsrt_bench_cluster_<random>`` on the machine's PostgreSQL, dropped on exit."""

    def __init__(self) -> None:
        self.name = f"tsrt_bench_cluster_{secrets.token_hex(4)}"
        asyncio.run(_fetch(PG_ADMIN, f'CREATE DATABASE "{self.name}"'))

    @property
    def url(self) -> str:
        """The nodes' SQLAlchemy URL."""
        return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.name}"

    @property
    def plain_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:5432/{self.name}"

    def stats(self) -> PgStats:
        rows = asyncio.run(
            _fetch(
                self.plain_url,
                "SELECT xact_commit, tup_inserted + tup_updated + tup_deleted AS written"
                " FROM pg_stat_database WHERE datname = $1",
                self.name,
            )
        )
        return PgStats(int(rows[0]["xact_commit"]), int(rows[0]["written"]))

    def stored_general(self) -> set[tuple[int, int]]:
        """Every (project id, seq) stored in a project's ``#general``."""
        rows = asyncio.run(
            _fetch(
                self.plain_url,
                "SELECT c.project_id, m.seq FROM chat_messages m"
                " JOIN chat_channels c ON c.id = m.channel_id WHERE c.name = 'general'",
            )
        )
        return {(int(r["project_id"]), int(r["seq"])) for r in rows}

    def close(self) -> None:
        """Drops the database."""
        asyncio.run(_fetch(PG_ADMIN, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
