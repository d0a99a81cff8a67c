"""A real Janus for the video tests, in a network namespace of its own.

Janus skips loopback addresses when it gathers ICE candidates, and a test may send nothing that
leaves this machine. So each test makes a namespace (`ip netns add`) holding a veth pair with
a private address on `va` (10.123.0.1; `vb`, its other end, gives it a carrier), starts Janus
inside it with ICE enforced to `va`, and runs its aiortc peers inside it too, on the same
address (`tests/support/sfu_peer.py`; with the peers on `vb`'s own address ICE never completed
here). The server under test stays outside, in the test's process, and
reaches Janus through Janus's Unix-socket API: a socket's file is not bound to a network
namespace. Media therefore never leaves the namespace, and the namespace (with Janus) is removed
when the test ends, however it ends.

Janus loads only what it is given: its plugin and transport folders hold links to the VideoRoom
plugin and the Unix-socket transport alone; the HTTP and WebSocket transports and the admin API
are not loaded at all.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from signaling.janus import JanusConnection, JanusError
from signaling.janus_config import EVENT_LOOPS, JanusConfig
from signaling.janus_config import write as write_config
from tests.support.waiting import WAIT

JANUS = shutil.which("janus") or "/usr/bin/janus"
JANUS_ADDRESS = "10.123.0.1"
# Janus's start-up race (see `_start`) is lost more often the busier the machine: under a load
# of 15 on two cores, five attempts in a row were lost once in a whole suite's ~40 starts.
START_ATTEMPTS = 20
_numbers = itertools.count()


class JanusExited(RuntimeError):
    pass


def available() -> bool:
    """Janus from Debian (`make janus`) and the right to make namespaces (root)."""
    return Path(JANUS).exists() and os.geteuid() == 0 and shutil.which("ip") is not None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=WAIT)


@dataclass
class Janus:
    namespace: str
    socket_path: str
    api_secret: str
    admin_key: str
    log_path: Path
    # Each instance of a namespace gets its own range of media ports.
    rtp_ports: str = "20000-40000"
    # As in production unless a benchmark compares (None: Janus's thread per handle).
    event_loops: int | None = EVENT_LOOPS
    process: asyncio.subprocess.Process | None = None

    def kill(self) -> None:
        """Janus dies at once, as in a crash (the test's failover)."""
        assert self.process is not None
        self.process.kill()

    def in_namespace(self, *argv: str) -> list[str]:
        """A command line that runs `argv` inside the test's namespace."""
        return ["ip", "netns", "exec", self.namespace, *argv]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def _config(folder: Path, janus: Janus) -> None:
    write_config(
        folder,
        JanusConfig(
            api_secret=janus.api_secret,
            admin_key=janus.admin_key,
            socket_path=janus.socket_path,
            server_name=janus.namespace,
            rtp_ports=janus.rtp_ports,
            ice_interface="va",
            debug_level=4,
            event_loops=janus.event_loops,
        ),
    )


async def _ready(janus: Janus, process: asyncio.subprocess.Process) -> None:
    """Janus answers `ping` on its socket once its plugins and transports are loaded."""
    async with asyncio.timeout(WAIT):
        while True:
            if process.returncode is not None:
                raise JanusExited(f"Janus exited at start-up:\n{janus.log()}")
            if Path(janus.socket_path).exists():
                try:
                    connection = await JanusConnection.open(janus.socket_path, janus.api_secret)
                except JanusError:
                    pass
                else:
                    try:
                        reply = await connection.request({"janus": "ping"})
                    except JanusError as exc:
                        if exc.code == 0 and not connection.closed:
                            # Its socket made, its API never answered (REPLY_SECONDS): the same
                            # lost race, once seen to leave Janus running but deaf. Start anew.
                            process.kill()
                            await process.wait()
                            raise JanusExited(
                                f"Janus did not answer at start-up:\n{janus.log()}"
                            ) from exc
                        # Janus lost its start-up race after making its socket, and went: the
                        # next turn sees it exited, and `_start` tries again.
                        reply = {}
                    finally:
                        await connection.close()
                    if reply.get("janus") == "pong":
                        return
            await asyncio.sleep(0.1)


async def _links_up(namespace: str) -> None:
    """Janus reads the interface's address once, at start: wait for the veth carrier first."""
    async with asyncio.timeout(WAIT):
        while True:
            shown = subprocess.run(
                ["ip", "-n", namespace, "-o", "link", "show", "va"],
                check=True,
                capture_output=True,
                text=True,
                timeout=WAIT,
            ).stdout
            if "LOWER_UP" in shown:
                return
            await asyncio.sleep(0.05)


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            async with asyncio.timeout(WAIT):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


async def _start(janus: Janus, folder: Path) -> asyncio.subprocess.Process:
    """Janus 1.1.2's Unix-socket transport starts its thread before marking itself initialised;
    when the thread runs first it ends at once and Janus exits ("No Janus API transport"). A
    supervisor restarts it (systemd's `Restart=on-failure` in production); so does this."""
    for attempt in range(START_ATTEMPTS):
        with janus.log_path.open("wb") as log:
            process = await asyncio.create_subprocess_exec(
                *janus.in_namespace(JANUS, "-F", str(folder), "-C", f"{folder}/janus.jcfg"),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        try:
            await _ready(janus, process)
            return process
        except JanusExited:
            await _stop(process)
            if attempt == START_ATTEMPTS - 1:
                raise
        except BaseException:
            # Not ready in time (or the test was cancelled): no Janus outlives its test.
            if process.returncode is None:
                process.kill()
                await process.wait()
            raise
    raise AssertionError("unreachable")


@asynccontextmanager
async def running_janus(event_loops: int | None = EVENT_LOOPS) -> AsyncIterator[Janus]:
    """A namespace with its veth pair and a Janus inside; everything is removed at the end."""
    async with running_januses(1, event_loops) as (janus,):
        yield janus


@asynccontextmanager
async def running_januses(
    count: int, event_loops: int | None = EVENT_LOOPS
) -> AsyncIterator[tuple[Janus, ...]]:
    """A namespace with its veth pair and ``count`` Janus instances inside, on the same address
    (so the same media peers reach either), each with its own API socket and media ports."""
    namespace = f"tsrt{os.getpid()}n{next(_numbers)}"
    api_secret, admin_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory(prefix="janus-") as folder_name:
        instances = []
        for number in range(count):
            folder = Path(folder_name) / str(number)
            folder.mkdir()
            low = 20000 + number * (20000 // count)
            janus = Janus(
                namespace=namespace,
                socket_path=str(folder / "api.sock"),
                api_secret=api_secret,
                admin_key=admin_key,
                log_path=folder / "janus.log",
                rtp_ports=f"{low}-{low + 20000 // count - 1}",
                event_loops=event_loops,
            )
            _config(folder, janus)
            instances.append((janus, folder))
        _ip("netns", "add", namespace)
        try:
            _ip("-n", namespace, "link", "add", "va", "type", "veth", "peer", "name", "vb")
            _ip("-n", namespace, "addr", "add", f"{JANUS_ADDRESS}/24", "dev", "va")
            for device in ("lo", "va", "vb"):
                _ip("-n", namespace, "link", "set", device, "up")
            await _links_up(namespace)
            for janus, folder in instances:
                janus.process = await _start(janus, folder)
            yield tuple(janus for janus, _ in instances)
        finally:
            for janus, _ in instances:
                if janus.process is not None:
                    await _stop(janus.process)
            _ip("netns", "del", namespace)
