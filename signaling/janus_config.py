"""The one way this product configures a Janus process: the launchers (the local cluster's
`deploy/cluster/mediaserver.py`, the tests' `tests/support/janus.py`) write it with this.

Janus loads only what its folders hold: the plugin and transport folders get links to the
VideoRoom plugin and the Unix-socket transport alone, so the HTTP and WebSocket transports and
the admin API are not loaded at all. The API needs the secret; the plugin's admin key guards
room creation, and RTP forwarding is locked behind it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

LIBRARIES = Path("/usr/lib/x86_64-linux-gnu/janus")
PARTS = (("plugins", "videoroom"), ("transports", "pfunix"))
FOLDERS = ("plugins", "transports", "events", "loggers")
# Janus's static event loops, one per core of the machine it runs on (`JanusConfig.event_loops`).
EVENT_LOOPS = os.cpu_count() or 1


@dataclass(frozen=True)
class JanusConfig:
    api_secret: str
    admin_key: str
    socket_path: str
    server_name: str
    rtp_ports: str  # "low-high"
    # The only interface Janus gathers ICE candidates on (it refuses loopback).
    ice_interface: str
    # The address its descriptions name, when it would pick none it likes by itself.
    interface: str | None = None
    debug_level: int | None = None
    # Janus's static event loops: that many threads carry every handle's media, instead of a
    # thread per handle (Janus's default), which wakes a thread per packet and handle. One loop
    # per core forwarded 608-627 streams per core of Janus against 352-382 with a thread per
    # handle (`bench/sfu_class.py --event-loops 0,2`, docs/PERFORMANCE.md). None: Janus's default.
    event_loops: int | None = EVENT_LOOPS


def write(folder: Path, config: JanusConfig) -> Path:
    """Writes the configuration into ``folder``; returns the main file (Janus's ``-C``)."""
    for kind, library in PARTS:
        (folder / kind).mkdir(parents=True, exist_ok=True)
        link = folder / kind / f"libjanus_{library}.so"
        if not link.is_symlink():
            link.symlink_to(LIBRARIES / kind / link.name)
    for kind in ("events", "loggers"):
        (folder / kind).mkdir(exist_ok=True)
    general = [
        f'configs_folder = "{folder}"',
        *(f'{kind}_folder = "{folder}/{kind}"' for kind in FOLDERS),
        f'api_secret = "{config.api_secret}"',
        "session_timeout = 60",
        f'server_name = "{config.server_name}"',
    ]
    if config.debug_level is not None:
        general.append(f"debug_level = {config.debug_level}")
    if config.event_loops is not None:
        general.append(f"event_loops = {config.event_loops}")
    if config.interface is not None:
        general.append(f'interface = "{config.interface}"')
    main = folder / "janus.jcfg"
    main.write_text(
        _section("general", general)
        + _section("media", [f'rtp_port_range = "{config.rtp_ports}"'])
        + _section("nat", [f'ice_enforce_list = "{config.ice_interface}"', "ignore_mdns = true"])
    )
    (folder / "janus.transport.pfunix.jcfg").write_text(
        _section(
            "general",
            [
                "enabled = true",
                'json = "compact"',
                f'path = "{config.socket_path}"',
                'type = "SOCK_SEQPACKET"',
            ],
        )
        + _section("admin", ["admin_enabled = false"])
    )
    (folder / "janus.plugin.videoroom.jcfg").write_text(
        _section("general", [f'admin_key = "{config.admin_key}"', "lock_rtp_forward = true"])
    )
    return main


def _section(name: str, settings: list[str]) -> str:
    body = "".join(f"  {line}\n" for line in settings)
    return f"{name}: {{\n{body}}}\n"
