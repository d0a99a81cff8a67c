"""The cluster launcher's processes and readiness checks (`cluster.py` drives them).

Each service runs in a session of its own, so it outlives the launcher; a pid file holds its pid
and start time, so a pid the kernel reused for something else is never signalled. Every wait is
bounded.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import ssl
import struct
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

# Every wait is bounded; this long covers a cold start on a loaded two-core machine.
READY_SECONDS = 90.0


def _pid_file(state: Path, name: str) -> Path:
    return state / "pids" / f"{name}.pid"


def start(state: Path, name: str, argv: list[str], env: dict[str, str]) -> None:
    """Starts a service in a session of its own (it outlives this launcher), logging to a file."""
    (state / "logs").mkdir(parents=True, exist_ok=True)
    (state / "pids").mkdir(parents=True, exist_ok=True)
    log = (state / "logs" / f"{name}.log").open("ab")
    process = subprocess.Popen(
        argv,
        env=env,
        cwd=state,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    _pid_file(state, name).write_text(f"{process.pid} {_started_at(process.pid)}")


def _started_at(pid: int) -> str | None:
    """The process's start time (/proc stat field 22): with the pid, it names one process, so
    a pid the kernel has reused for something else is never signalled."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    # A zombie (exited, not yet reaped by its parent) does not run any more.
    return None if fields[0] == "Z" else fields[19]


def running(state: Path, name: str) -> int | None:
    """The service's pid if that process still runs and is the one we started."""
    path = _pid_file(state, name)
    if not path.exists():
        return None
    pid, started = path.read_text().split()
    return int(pid) if _started_at(int(pid)) == started else None


def stop(state: Path, name: str) -> None:
    """SIGTERM, then up to READY_SECONDS for a graceful exit (a node drains), then SIGKILL."""
    pid = running(state, name)
    if pid is not None:
        os.kill(pid, signal.SIGTERM)
        try:
            wait(f"{name} to exit", lambda: running(state, name) is None)
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
    _pid_file(state, name).unlink(missing_ok=True)


def wait(what: str, ready: Callable[[], bool]) -> None:
    """Polls a readiness check until it holds (bounded; raises with what was awaited)."""
    deadline = time.monotonic() + READY_SECONDS
    while not ready():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what}")
        time.sleep(0.1)


def alive_or_fail(state: Path, name: str) -> None:
    if running(state, name) is None:
        log = state / "logs" / f"{name}.log"
        tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
        raise SystemExit(f"{name} exited during start-up; {log}:\n{tail}")


def http_ok(url: str, context: ssl.SSLContext | None = None) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3, context=context) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return False


def stun_answers(port: int) -> bool:
    """A STUN binding request (RFC 5389) over UDP gets a binding success response."""
    transaction = secrets.token_bytes(12)
    request = struct.pack("!HHI", 0x0001, 0, 0x2112A442) + transaction
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(1)
        try:
            sock.sendto(request, ("127.0.0.1", port))
            reply = sock.recv(2048)
        except OSError:
            return False
    return reply[:2] == b"\x01\x01" and reply[8:20] == transaction
