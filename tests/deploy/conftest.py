"""The local production shape (`make cluster`) for the deployment tests: Caddy with its internal
CA in front of two nodes on PostgreSQL, Redis, SeaweedFS, coturn and Janus (in a network
namespace of its own), one per test module.

Runs when Caddy, coturn and Janus are installed (`make proxy`, `make janus`) and namespaces can
be made (root; on CI a missing one fails the test), in the PostgreSQL run of the suite only: the
cluster is PostgreSQL whichever database the suite selects, so the SQLite run would repeat the
same minute and a half to test the same thing. The cluster gets its own ports, state folder,
PostgreSQL database, Redis prefix and Janus namespace, so it runs beside anything else on the
machine, and is stopped (its namespace removed) however the tests end.
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

from tests.conftest import _drop_pg_database, _new_pg_database, _pg_url
from tests.support import janus
from tests.support.room import PASSWORD, first_sign_in, login
from tests.support.services import DB_KIND, service_missing
from tests.support.waiting import WAIT

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "deploy" / "cluster" / "cluster.py"
# The ports one cluster takes above its base (deploy/cluster/cluster.py, `Cluster`).
PORT_SPAN = 61


@dataclass(frozen=True)
class ClusterJanus:
    """The cluster's Janus, as its nodes reach it: its API socket and secrets."""

    socket: str
    api_secret: str
    admin_key: str


@dataclass
class Cluster:
    state: Path
    base_port: int
    url: str
    entries: dict[str, str]
    node_ports: dict[str, int]
    tls: ssl.SSLContext
    ca_root: Path = Path()
    janus: ClusterJanus | None = None

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
    """A base port with the whole span free (TCP and UDP) on loopback, below the kernel's
    ephemeral range: a span in it was free when checked, then taken by another test's
    connection before Caddy bound it ("address already in use")."""
    lowest_ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(50):
        base = randrange(10000, lowest_ephemeral - PORT_SPAN)
        try:
            for port in range(base, base + PORT_SPAN):
                for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                    with socket.socket(socket.AF_INET, kind) as sock:
                        sock.bind(("127.0.0.1", port))
        except OSError:
            continue
        return base
    raise RuntimeError("no free span of ports")


@pytest.fixture(scope="module")
async def cluster(
    pg_template: str | None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Cluster]:
    """One cluster for a test module (starting one takes the better part of a minute)."""
    if DB_KIND != "postgres":
        pytest.skip("the cluster runs on PostgreSQL: tested in the suite's PostgreSQL run")
    for program in ("caddy", "turnserver"):
        if shutil.which(program) is None:
            service_missing(program, f"`{program}` is not installed (make proxy)")
    if not janus.available():
        service_missing("janus", "Janus (make janus) and root for its network namespace")
    base = _free_base()
    state = tmp_path_factory.mktemp("cluster")
    pg_name = await _new_pg_database(pg_template)
    prefix = f"test-cluster-{uuid.uuid4().hex[:8]}"
    up = Cluster(state, base, "", {}, {}, ssl.create_default_context())
    try:
        code, output = await up.run(
            "up", "--database-url", _pg_url(pg_name), "--redis-prefix", prefix
        )
        assert code == 0, f"{output}\n{up.logs()}"
        described = json.loads((state / "cluster.json").read_text())
        env = described["node_env"]
        yield Cluster(
            state,
            base,
            described["url"],
            described["node_entries"],
            described["node_ports"],
            ssl.create_default_context(cafile=described["ca_root"]),
            Path(described["ca_root"]),
            ClusterJanus(
                env["TWINSPACE_RTC_JANUS_SOCKET"],
                env["TWINSPACE_RTC_JANUS_API_SECRET"],
                env["TWINSPACE_RTC_JANUS_ADMIN_KEY"],
            ),
        )
    finally:
        code, output = await up.run("down")
        await _drop_pg_database(pg_name)
        assert code == 0, output


@dataclass
class ClusterRoom:
    """A teacher's project with pupils who have chosen their passwords, made over https."""

    project_id: int
    teacher: str
    teacher_token: str
    pupils: list[tuple[str, str]]  # username, token

    @property
    def pupil_token(self) -> str:
        return self.pupils[0][1]


async def cluster_room(cluster: Cluster, name: str, pupils: int = 1) -> ClusterRoom:
    teacher = f"t{uuid.uuid4().hex[:8]}"
    code, output = await cluster.run(
        "cli", "user", "add", teacher, "--password", PASSWORD, "--name", "Ana", "--country", "PT"
    )
    assert code == 0, output
    async with httpx.AsyncClient(base_url=cluster.url, verify=cluster.tls, timeout=WAIT) as http:
        # Signed in over https through Caddy, with its internal CA trusted and nothing else.
        headers = await login(http, teacher)
        created = await http.post("/api/projects", json={"name": name}, headers=headers)
        assert created.status_code == 201, created.text
        project_id = created.json()["id"]
        signed_in = []
        for display_name in ("Bea", "Jan", "Zofia")[:pupils]:
            made = await http.post(
                f"/api/projects/{project_id}/pupils",
                json={"display_name": display_name, "role": "pupil"},
                headers=headers,
            )
            assert made.status_code == 201, made.text
            pupil = made.json()["pupils"][0]
            own = await first_sign_in(http, pupil["username"], pupil["password"])
            signed_in.append((pupil["username"], own["Authorization"].split()[1]))
    return ClusterRoom(project_id, teacher, headers["Authorization"].split()[1], signed_in)
