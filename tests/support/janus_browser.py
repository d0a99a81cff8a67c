"""Janus and Chromium in one network namespace, the server outside it: the SFU's browser test.

Janus skips loopback addresses when it gathers ICE candidates, so the browser cannot meet it
on 127.0.0.1. This namespace's veth pair has one end inside (`va`, 10.124.N.1, Janus's
enforced interface) and the other in the root namespace (10.124.N.254), where the test's
server listens. Chromium runs inside the namespace (Playwright launches a wrapper script that
`ip netns exec`s it; Playwright talks to it over its own pipes, which cross namespaces), so its
media meets Janus on `va`, and its pages reach the server through the pair. Nothing leaves the
machine: both ends are private addresses of this host, with no route anywhere else. aiortc
peers beside the pages run inside the namespace too, on `va`'s address (`inner_address`). The
namespace (and with it both ends of the pair) is removed when the test ends, however it ends.
Janus is configured and started as in `tests/support/janus.py` (VideoRoom and the Unix-socket
transport only), and the server reaches it through that socket.
"""

from __future__ import annotations

import itertools
import os
import secrets
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support import janus as janus_support
from tests.support.janus import Janus

_numbers = itertools.count()


@dataclass
class BrowserNet:
    # Each with its own API socket and media ports, all on `va` (a test may kill one).
    januses: tuple[Janus, ...]
    # The root namespace's end of the pair: the server listens here.
    server_address: str
    # The namespace's end (Janus's ICE address): aiortc peers in the namespace take it too.
    inner_address: str
    # An executable that runs Chromium inside the namespace, for Playwright's `launch`.
    chromium: str


def _subnet() -> int:
    """A third octet of its own per run, so that a run beside another one does not collide."""
    return (os.getpid() + next(_numbers)) % 250 + 1


@asynccontextmanager
async def browser_net(chromium: str, count: int = 1) -> AsyncIterator[BrowserNet]:
    number = next(_numbers)
    namespace = f"tsrtb{os.getpid()}n{number}"
    # Interface names have at most 15 characters.
    outer = f"tsb{os.getpid() % 100000}n{number}"[:15]
    octet = _subnet()
    inner_address, server_address = f"10.124.{octet}.1", f"10.124.{octet}.254"
    api_secret, admin_key = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    span = 20000 // count
    with tempfile.TemporaryDirectory(prefix="janus-browser-") as folder_name:
        instances = []
        for index in range(count):
            folder = Path(folder_name) / f"janus{index}"
            folder.mkdir()
            low = 20000 + index * span
            janus = Janus(
                namespace=namespace,
                socket_path=str(folder / "api.sock"),
                api_secret=api_secret,
                admin_key=admin_key,
                log_path=folder / "janus.log",
                rtp_ports=f"{low}-{low + span - 1}",
            )
            janus_support._config(folder, janus)
            instances.append((janus, folder))
        wrapper = Path(folder_name) / "chromium-in-namespace"
        wrapper.write_text(f'#!/bin/sh\nexec ip netns exec {namespace} {chromium} "$@"\n')
        wrapper.chmod(0o755)
        janus_support._ip("netns", "add", namespace)
        try:
            janus_support._ip(
                "link", "add", outer, "type", "veth", "peer", "name", "va", "netns", namespace
            )
            janus_support._ip("addr", "add", f"{server_address}/24", "dev", outer)
            janus_support._ip("link", "set", outer, "up")
            janus_support._ip("-n", namespace, "addr", "add", f"{inner_address}/24", "dev", "va")
            for device in ("lo", "va"):
                janus_support._ip("-n", namespace, "link", "set", device, "up")
            await janus_support._links_up(namespace)
            for janus, folder in instances:
                janus.process = await janus_support._start(janus, folder)
            yield BrowserNet(
                tuple(j for j, _ in instances), server_address, inner_address, str(wrapper)
            )
        finally:
            for janus, _ in instances:
                if janus.process is not None:
                    await janus_support._stop(janus.process)
            # Deleting the namespace deletes `va`, and a veth pair goes with either end.
            janus_support._ip("netns", "del", namespace)
