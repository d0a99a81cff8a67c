"""Janus for the local cluster, in a network namespace of its own behind a veth pair.

Janus never offers loopback addresses as ICE candidates, and this cluster binds loopback only.
So Janus runs inside a namespace whose veth pair has one end inside (`va`, the only interface
Janus gathers candidates on: `nat.ice_enforce_list`) and the other end in the root namespace,
each with an address of one private /30 (10.125.0.0/16 is cut into /30s; the tests' own
namespaces use 10.123 and 10.124). A browser on this machine meets Janus's media on the inner
address over the pair; the nodes drive Janus through its Unix-socket API, a file that every
namespace sees. Nothing leaves the machine: the namespace has no route but the /30, and the
root namespace routes the /30 to the pair only. `down` deletes the namespace, which deletes
both ends of the pair.

Janus loads only the VideoRoom plugin and the Unix-socket transport, as in production
(`deploy/janus/entrypoint.sh`); its API secret and the plugin's admin key are the cluster's
generated secrets, given to the nodes too.
"""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import socket
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from processes import running, start, stop, wait

from signaling.janus_config import JanusConfig
from signaling.janus_config import write as write_config

JANUS = shutil.which("janus") or "/usr/bin/janus"
# The cluster's /30s are cut from this range (in the root namespace: the end outside).
POOL = ipaddress.IPv4Network("10.125.0.0/16")
INNER = "va"
# Janus 1.1.2's Unix-socket transport may start its thread before it marks itself initialised;
# Janus then exits at once ("No Janus API transport"). A supervisor restarts it (systemd's
# `Restart=on-failure` in production); so does the launcher, this many times.
START_ATTEMPTS = 5
# A Unix socket's path is at most this long (sun_path, with its terminating NUL).
SOCKET_PATH_MAX = 107


@dataclass(frozen=True)
class MediaNet:
    """The namespace, the pair's outer end and the /30: written to the state folder at `up`,
    so `down` removes exactly what `up` made."""

    namespace: str
    outer: str
    janus_address: str  # on `va`, inside: what Janus announces
    outer_address: str  # the root namespace's end
    prefix: int = 30


def available() -> str | None:
    """Why Janus cannot run here, or None."""
    if not Path(JANUS).exists():
        return "Janus is not installed (`make janus`)"
    if os.geteuid() != 0:
        return "making a network namespace for Janus needs root"
    if shutil.which("ip") is None:
        return "`ip` (iproute2) is not installed"
    return None


def folder(state: Path) -> Path:
    return state / "janus"


def socket_path(state: Path) -> Path:
    return folder(state) / "api.sock"


def _ip(*args: str) -> str:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=30)
    if done.returncode != 0:
        raise SystemExit(f"`ip {' '.join(args)}` failed: {done.stderr.strip()}")
    return done.stdout


def _free_subnet() -> ipaddress.IPv4Network:
    """The first /30 of the pool that no address of the root namespace is in (another cluster
    on this machine has its own)."""
    taken = []
    for line in _ip("-o", "-4", "addr", "show").splitlines():
        taken.append(ipaddress.ip_interface(line.split()[3]).network)
    for subnet in POOL.subnets(new_prefix=30):
        if not any(subnet.overlaps(network) for network in taken):
            return subnet
    raise SystemExit(f"no free /30 left in {POOL}")


def _saved(state: Path) -> MediaNet | None:
    path = folder(state) / "net.json"
    return MediaNet(**json.loads(path.read_text())) if path.exists() else None


def _net_up(state: Path, base: int) -> MediaNet:
    subnet = _free_subnet()
    inside, outside = list(subnet.hosts())
    # Named after the cluster's base port: unique on the machine, as its ports are. An
    # interface name has at most 15 characters.
    net = MediaNet(f"tsrtc{base}", f"tsc{base}"[:15], str(inside), str(outside))
    (folder(state) / "net.json").write_text(json.dumps(asdict(net)))
    _ip("netns", "add", net.namespace)
    _ip("link", "add", net.outer, "type", "veth", "peer", "name", INNER, "netns", net.namespace)
    _ip("addr", "add", f"{net.outer_address}/{net.prefix}", "dev", net.outer)
    _ip("link", "set", net.outer, "up")
    _ip("-n", net.namespace, "addr", "add", f"{net.janus_address}/{net.prefix}", "dev", INNER)
    for device in ("lo", INNER):
        _ip("-n", net.namespace, "link", "set", device, "up")
    # Janus reads its interface's address once, at start: the pair must have its carrier.
    wait(
        "the veth pair's carrier",
        lambda: "LOWER_UP" in _ip("-n", net.namespace, "-o", "link", "show", INNER),
    )
    return net


def net_down(state: Path) -> None:
    """Deletes the namespace (and with it both ends of the pair); nothing if there is none."""
    net = _saved(state)
    if net is None:
        return
    if net.namespace in _ip("netns", "list").split():
        _ip("netns", "del", net.namespace)
    (folder(state) / "net.json").unlink()


def _config(state: Path, net: MediaNet, api_secret: str, admin_key: str) -> Path:
    return write_config(
        folder(state),
        JanusConfig(
            api_secret=api_secret,
            admin_key=admin_key,
            socket_path=str(socket_path(state)),
            server_name=net.namespace,
            # Inside the namespace: the range production opens in its firewall clashes with
            # nothing here.
            rtp_ports="20000-40000",
            # The pair's inner end only: the address a browser on this machine reaches.
            ice_interface=INNER,
            # The address its descriptions name (it would otherwise find none it likes and say
            # 127.0.0.1).
            interface=net.janus_address,
        ),
    )


def pong(path: Path, api_secret: str) -> bool:
    """Janus answers `ping` on its socket once its plugin and transport are loaded."""
    request = {"janus": "ping", "transaction": "ready", "apisecret": api_secret}
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as sock:
        sock.settimeout(3)
        try:
            sock.connect(str(path))
            sock.send(json.dumps(request).encode())
            reply = json.loads(sock.recv(65536))
        except (OSError, ValueError):
            return False
    return bool(reply.get("janus") == "pong")


class _Exited(Exception):
    pass


def up(state: Path, base: int, api_secret: str, admin_key: str) -> MediaNet:
    """Janus running in its namespace and answering on its socket (made once per cluster)."""
    folder(state).mkdir(parents=True, exist_ok=True)
    api = socket_path(state)
    if len(str(api)) > SOCKET_PATH_MAX:
        raise SystemExit(f"Janus's socket path is too long for a Unix socket: {api}")
    net = _saved(state)
    if net is not None and running(state, "janus") is not None:
        return net
    # A namespace left by a cluster that was killed rather than stopped is made again.
    net_down(state)
    net = _net_up(state, base)
    config = _config(state, net, api_secret, admin_key)
    argv = ["ip", "netns", "exec", net.namespace, JANUS, "-F", str(config.parent), "-C"]
    argv.append(str(config))

    def answers() -> bool:
        if running(state, "janus") is None:
            raise _Exited
        return pong(api, api_secret)

    for _ in range(START_ATTEMPTS):
        api.unlink(missing_ok=True)
        start(state, "janus", argv, dict(os.environ))
        try:
            wait("Janus's API socket", answers)
            return net
        except _Exited:
            stop(state, "janus")
    log = state / "logs" / "janus.log"
    raise SystemExit(f"Janus exited at start-up {START_ATTEMPTS} times; {log}")
