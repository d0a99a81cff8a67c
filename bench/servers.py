"""The servers under test: each in its own process on a loopback ephemeral port, with its CPU
time and memory read from /proc. Kept free of TwinSpace RT imports so load workers stay small.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

HOST = "127.0.0.1"
BENCH = Path(__file__).resolve().parent
TWINSPACE_CLI = str(Path(sys.executable).parent / "twinspace-rt")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
KINDS = ("twinspace", "socketio", "socketio-node", "websockets")
YJS_SERVER = BENCH / "yjs" / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"
SOCKETIO_NODE_SERVER = BENCH / "socketio" / "server.mjs"


@dataclass(frozen=True)
class Seat:
    """One client's place in the load: a global index, its room, and how it authenticates."""

    index: int
    room: int
    project_id: int
    token: str


@dataclass(frozen=True)
class Usage:
    cpu_seconds: float
    rss_kib: int


class Closing:
    """A context manager that lets go of what it holds on the way out, however the block
    ends: each bench resource (a process, a database, workers) says how in ``close``."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def raise_fd_limit() -> None:
    """Thousands of sockets need more descriptors than the usual soft limit of 1024."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found.extend(int(child) for child in task.read_text().split())
    return found


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        todo.extend(_children(current))
    return pids


def usage(pid: int) -> Usage:
    """CPU seconds (user + system, all threads) and resident memory of a process and its tree."""
    cpu_ticks, rss = 0, 0
    for current in process_tree(pid):
        try:
            stat = Path(f"/proc/{current}/stat").read_text()
            status = Path(f"/proc/{current}/status").read_text()
        except FileNotFoundError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        cpu_ticks += int(fields[11]) + int(fields[12])  # utime, stime
        # A process that has exited but not been reaped has no VmRSS line.
        rss += next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")),
            0,
        )
    return Usage(cpu_ticks / CLOCK_TICKS, rss)


def command(kind: str, port: int) -> tuple[list[str], dict[str, str]]:
    """How to start a server: TwinSpace RT's own CLI, a Node server (the reference Yjs server
    ``yws`` or Socket.IO ``socketio-node``, which read their address from the environment), or
    one of ``baselines.py``."""
    if kind == "twinspace":
        return [TWINSPACE_CLI, "serve", "--port", str(port)], {}
    if kind == "yws":
        return ["node", str(YJS_SERVER)], {"HOST": HOST, "PORT": str(port)}
    if kind == "socketio-node":
        return ["node", str(SOCKETIO_NODE_SERVER)], {"HOST": HOST, "PORT": str(port)}
    return [sys.executable, str(BENCH / "baselines.py"), kind, "--port", str(port)], {}


class ServerProcess(Closing):
    """One server in its own session, so stopping it also stops anything it started."""

    def __init__(
        self,
        kind: str,
        work_dir: Path,
        env: dict[str, str],
        port: int | None = None,
        prefix: tuple[str, ...] = (),
    ) -> None:
        """``port``: a given one, to start a server again where its clients look for it;
        ``prefix``: a command the server runs under (a profiler)."""
        self.kind = kind
        self.port = port or free_port()
        self.log_path = work_dir / f"{kind}-{self.port}-{time.monotonic_ns()}.log"
        argv, address = command(kind, self.port)
        argv = [*prefix, *argv]
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                argv,
                env=env | address,
                cwd=work_dir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=raise_fd_limit,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_ready(self, timeout: float = 60) -> None:
        """Listening means ready: uvicorn binds only after the app's start-up (migrations)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited during start-up:\n{self.log_tail()}")
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{self.kind} did not listen within {timeout} s")

    def usage(self) -> Usage:
        return usage(self.pid)

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL, as a crash would: nothing gets to flush or finish."""
        if self.process.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.process.wait(5)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s, even if the wait itself is interrupted."""
        try:
            if self.process.poll() is None:
                os.killpg(self.pid, signal.SIGTERM)
                self.process.wait(15)
        except subprocess.TimeoutExpired:
            pass
        finally:
            if self.process.poll() is None:
                os.killpg(self.pid, signal.SIGKILL)
                self.process.wait(5)

    def __enter__(self) -> ServerProcess:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def close(self) -> None:
        self.stop()
