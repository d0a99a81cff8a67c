"""The local production shape (`make cluster`), end to end over TLS: Caddy's internal CA trusted
by the clients, two nodes behind it, and a rolling restart that loses nothing.

Runs when Caddy and coturn are installed (`make proxy`; on CI a missing one fails the test),
in the PostgreSQL run of the suite only: the cluster is PostgreSQL whichever database the suite
selects, so the SQLite run would repeat the same minute and a half to test the same thing. The
cluster gets its own ports, state folder, PostgreSQL database and Redis prefix, so it runs
beside anything else on the machine, and is stopped however the test ends.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import ssl
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from random import randrange

import httpx
import pytest
import websockets

from tests.support.live import HubClient
from tests.support.room import PASSWORD, first_sign_in, login
from tests.support.services import DB_KIND, service_missing
from tests.support.waiting import WAIT

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "deploy" / "cluster" / "cluster.py"
# The ports one cluster takes above its base (deploy/cluster/cluster.py, `Cluster`).
PORT_SPAN = 61


@dataclass
class Cluster:
    state: Path
    base_port: int
    url: str
    entries: dict[str, str]
    node_ports: dict[str, int]
    tls: ssl.SSLContext

    async def run(self, *args: str) -> tuple[int, str]:
        """The launcher, as `make cluster` runs it; its exit code and output."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(LAUNCHER),
            "--state",
            str(self.state),
            "--base-port",
            str(self.base_port),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        async with asyncio.timeout(WAIT * 4):
            output, _ = await process.communicate()
        return process.returncode or 0, output.decode(errors="replace")

    def logs(self) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-2000:]}"
            for log in sorted((self.state / "logs").glob("*.log"))
        )


def _free_base() -> int:
    """A base port with the whole span free (TCP and UDP) on loopback."""
    for _ in range(50):
        base = randrange(42000, 58000)
        try:
            for port in range(base, base + PORT_SPAN):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    with socket.socket(socket.AF_INET, kind) as sock:
                        sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free span of ports")


@pytest.fixture
async def cluster(tmp_path: Path, pg_database_url: str) -> AsyncIterator[Cluster]:
    if DB_KIND != "postgres":
        pytest.skip("the cluster runs on PostgreSQL: tested in the suite's PostgreSQL run")
    for program in ("caddy", "turnserver"):
        if shutil.which(program) is None:
            service_missing(program, f"`{program}` is not installed (make proxy)")
    base = _free_base()
    state = tmp_path / "cluster"
    prefix = f"test-cluster-{uuid.uuid4().hex[:8]}"
    up = Cluster(state, base, "", {}, {}, ssl.create_default_context())
    try:
        code, output = await up.run(
            "up", "--database-url", pg_database_url, "--redis-prefix", prefix
        )
        assert code == 0, f"{output}\n{up.logs()}"
        described = json.loads((state / "cluster.json").read_text())
        yield Cluster(
            state,
            base,
            described["url"],
            described["node_entries"],
            described["node_ports"],
            ssl.create_default_context(cafile=described["ca_root"]),
        )
    finally:
        code, output = await up.run("down")
        assert code == 0, output


async def _hub(cluster: Cluster, entry: str, project_id: int, token: str) -> HubClient:
    """A socket through Caddy over TLS, once it has its presence state."""
    url = entry.replace("https://", "wss://") + f"/ws/projects/{project_id}?token={token}"
    client = HubClient(await websockets.connect(url, ssl=cluster.tls, max_size=2**22))
    await client.wait_for("presence.state")
    return client


async def _hub_sockets(port: int) -> int:
    """How many hub sockets a node holds, from its own /metrics (asked directly, not via
    Caddy): which node took a socket is seen there, not guessed from the proxy."""
    async with httpx.AsyncClient(timeout=WAIT) as http:
        text = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    for line in text.splitlines():
        if line.startswith('twinspace_sockets_open{kind="hub"}'):
            return int(float(line.split()[-1]))
    return 0


async def _send(client: HubClient, texts: list[str]) -> None:
    for text in texts:
        await client.ok("chat.send", channel="general", text=text, key=text)


def _texts(client: HubClient) -> list[str]:
    return [m["message"]["text"] for m in client.of_type("chat.message")]


async def _resume(client: HubClient, since: int, expected: list[str]) -> None:
    reply = await client.ok("chat.subscribe", channels={"general": since})
    assert reply["channels"]["general"]["recovered"] is True
    assert reply["channels"]["general"]["replayed"] == len(expected)
    assert _texts(client) == expected


async def test_two_nodes_over_tls_and_a_rolling_restart_that_loses_nothing(
    cluster: Cluster,
) -> None:
    teacher_name = f"t{uuid.uuid4().hex[:8]}"
    code, output = await cluster.run(
        "cli",
        "user",
        "add",
        teacher_name,
        "--password",
        PASSWORD,
        "--name",
        "Ana",
        "--country",
        "PT",
    )
    assert code == 0, output
    node1, node2 = cluster.node_ports["1"], cluster.node_ports["2"]

    async with httpx.AsyncClient(base_url=cluster.url, verify=cluster.tls, timeout=WAIT) as http:
        # Signed in over https through Caddy, with its internal CA trusted and nothing else.
        headers = await login(http, teacher_name)
        created = await http.post("/api/projects", json={"name": "Across"}, headers=headers)
        assert created.status_code == 201, created.text
        project_id = created.json()["id"]
        made = await http.post(
            f"/api/projects/{project_id}/pupils",
            json={"display_name": "Bea", "role": "pupil"},
            headers=headers,
        )
        assert made.status_code == 201, made.text
        pupil_login = made.json()["pupils"][0]
        pupil_headers = await first_sign_in(http, pupil_login["username"], pupil_login["password"])
    teacher_token = headers["Authorization"].split()[1]
    pupil_token = pupil_headers["Authorization"].split()[1]

    # Pinned: the teacher on node 1, the pupil on node 2, each through its node's entry point.
    teacher = await _hub(cluster, cluster.entries["1"], project_id, teacher_token)
    pupil = await _hub(cluster, cluster.entries["2"], project_id, pupil_token)
    assert (await _hub_sockets(node1), await _hub_sockets(node2)) == (1, 1)
    for client in (teacher, pupil):
        await client.ok("chat.subscribe", channels={"general": None})
    await _send(teacher, ["Bom dia from node 1"])
    await _send(pupil, ["Dzień dobry from node 2"])
    for client in (teacher, pupil):
        await client.wait_for("chat.message", count=2)
        assert _texts(client) == ["Bom dia from node 1", "Dzień dobry from node 2"]
    seen = teacher.of_type("chat.message")[-1]["message"]["seq"]

    # Node 1 restarts under the teacher: 1001, then back through Caddy's one address, which
    # sends the socket to node 2 while node 1 drains; sent meanwhile is replayed, once each.
    restart = asyncio.create_task(cluster.run("restart", "1"))
    assert await teacher.closed() == 1001
    missed = [f"while node 1 restarts {i}" for i in range(10)]
    await _send(pupil, missed)
    teacher = await _hub(cluster, cluster.url, project_id, teacher_token)
    assert await _hub_sockets(node2) == 2
    await _resume(teacher, seen, missed)
    code, output = await restart
    assert code == 0, f"{output}\n{cluster.logs()}"

    # Then node 2, under both: each resumes from what it had seen, on node 1 now.
    seen = teacher.of_type("chat.message")[-1]["message"]["seq"]
    await pupil.wait_for("chat.message", count=len(missed) + 2)
    pupil_seen = pupil.of_type("chat.message")[-1]["message"]["seq"]
    assert pupil_seen == seen
    restart = asyncio.create_task(cluster.run("restart", "2"))
    assert await teacher.closed() == 1001
    assert await pupil.closed() == 1001
    teacher = await _hub(cluster, cluster.url, project_id, teacher_token)
    assert await _hub_sockets(node1) == 1
    await _resume(teacher, seen, [])
    during = [f"while node 2 restarts {i}" for i in range(10)]
    await _send(teacher, during)
    pupil = await _hub(cluster, cluster.url, project_id, pupil_token)
    assert await _hub_sockets(node1) == 2
    await _resume(pupil, pupil_seen, during)
    code, output = await restart
    assert code == 0, f"{output}\n{cluster.logs()}"
    for client in (teacher, pupil):
        await client.close()
