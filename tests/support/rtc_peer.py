"""A classroom's video client for tests: an aiortc peer that signals through the hub socket.

Each `Peer` holds one `HubClient` and one `RTCPeerConnection` per other participant. It sends a
small video track whose frame size identifies it and an audio track, opens a data channel, and trickles its ICE
candidates as separate `rtc.signal` messages (they are cut out of the description), so both
relay paths of the server are used. The newcomer calls those already present.

aioice never offers 127.0.0.1 as a host candidate and has no option to; `loopback_only` wraps
its `get_host_addresses` in this process so that peers meet on loopback, with no STUN server.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import aioice.ice
import pytest
from aiortc import (
    AudioStreamTrack,
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp
from av import VideoFrame

from tests.support.live import Closed, HubClient
from tests.support.waiting import WAIT


def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        return ["127.0.0.1"] if use_ipv4 else []

    monkeypatch.setattr(aioice.ice, "get_host_addresses", host_addresses)


class SizedTrack(VideoStreamTrack):
    """Blank frames of one size: the receiver knows by the size whose camera it sees."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__()
        self.width = width
        self.height = height

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=self.width, height=self.height)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.pts = pts
        frame.time_base = time_base
        return frame


def split_candidates(sdp: str) -> tuple[str, list[str], str]:
    """The description without its candidates, the first section's candidates, and its mid."""
    kept: list[str] = []
    candidates: list[str] = []
    mids: list[str] = []
    for line in sdp.splitlines():
        if line.startswith("a=mid:"):
            mids.append(line[len("a=mid:") :])
        if line.startswith("a=candidate:"):
            if len(mids) == 1:
                candidates.append(line[2:])
            continue
        if line.startswith("a=end-of-candidates"):
            continue
        kept.append(line)
    return "\r\n".join(kept) + "\r\n", candidates, mids[0]


class Peer:
    def __init__(self, client: HubClient, name: str, size: tuple[int, int]) -> None:
        self.client = client
        self.name = name
        self.size = size
        self.participant_id = 0
        self.ice_servers: list[dict[str, Any]] = []
        self.pcs: dict[int, RTCPeerConnection] = {}
        self.channels: dict[int, RTCDataChannel] = {}
        self.frames: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self.sounds: dict[int, int] = defaultdict(int)
        self.messages: dict[int, list[str]] = defaultdict(list)
        self._tasks: list[asyncio.Task[None]] = []

    async def join(self) -> dict[str, Any]:
        ack = await self.client.ok("rtc.join")
        self.participant_id = ack["participant_id"]
        self.ice_servers = ack.get("ice_servers", [])
        self._tasks.append(asyncio.create_task(self._pump()))
        return ack

    async def call(self, other: int) -> None:
        pc = self._pc(other)
        self._watch(other, pc.createDataChannel("class"), opened=False)
        await pc.setLocalDescription(await pc.createOffer())
        await self._send_description(other, pc)

    def sees(self, other: Peer) -> bool:
        """Video frames of the other's size and its sound arrived, and its data-channel greeting."""
        them = other.participant_id
        return (
            other.size in self.frames.get(them, [])
            and self.sounds.get(them, 0) > 0
            and f"hello from {other.name}" in self.messages.get(them, [])
        )

    def _pc(self, other: int) -> RTCPeerConnection:
        servers = [RTCIceServer(**server) for server in self.ice_servers]
        pc = RTCPeerConnection(RTCConfiguration(iceServers=servers))
        pc.addTrack(SizedTrack(*self.size))
        pc.addTrack(AudioStreamTrack())

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            self._tasks.append(asyncio.create_task(self._receive(other, track)))

        @pc.on("datachannel")
        def on_datachannel(channel: RTCDataChannel) -> None:
            self._watch(other, channel, opened=True)

        self.pcs[other] = pc
        return pc

    def _watch(self, other: int, channel: RTCDataChannel, opened: bool) -> None:
        self.channels[other] = channel
        greeting = f"hello from {self.name}"

        @channel.on("message")
        def on_message(message: str) -> None:
            self.messages[other].append(message)

        if opened:
            channel.send(greeting)
        else:
            channel.on("open", lambda: channel.send(greeting))

    async def _receive(self, other: int, track: MediaStreamTrack) -> None:
        with contextlib.suppress(MediaStreamError):
            for _ in range(10):
                frame = await track.recv()
                if isinstance(frame, VideoFrame):
                    self.frames[other].append((frame.width, frame.height))
                else:
                    self.sounds[other] += 1

    async def _send_description(self, other: int, pc: RTCPeerConnection) -> None:
        local = pc.localDescription
        sdp, candidates, mid = split_candidates(local.sdp)
        ufrag = next(
            line.split(":", 1)[1] for line in sdp.splitlines() if line.startswith("a=ice-ufrag:")
        )
        await self.client.ok("rtc.signal", to=other, description={"type": local.type, "sdp": sdp})
        for line in candidates:
            # As a browser's `candidate.toJSON()` sends it, usernameFragment included.
            candidate = {"candidate": line, "sdpMid": mid, "usernameFragment": ufrag}
            await self.client.ok("rtc.signal", to=other, candidate=candidate)
        await self.client.ok("rtc.signal", to=other, candidate={"candidate": "", "sdpMid": mid})

    async def _pump(self) -> None:
        """Handles relayed signals in arrival order for the peer's life."""
        handled = 0
        while True:
            try:
                signals = await self.client.wait_for("rtc.signal", count=handled + 1, timeout=3600)
            except Closed:
                return
            await self._on_signal(signals[handled])
            handled += 1

    async def _on_signal(self, signal: dict[str, Any]) -> None:
        other = signal["from"]
        if "description" in signal:
            description = RTCSessionDescription(**signal["description"])
            if description.type == "offer":
                pc = self._pc(other)
                await pc.setRemoteDescription(description)
                await pc.setLocalDescription(await pc.createAnswer())
                await self._send_description(other, pc)
            else:
                await self.pcs[other].setRemoteDescription(description)
            return
        line = signal["candidate"]["candidate"]
        if not line:
            await self.pcs[other].addIceCandidate(None)
            return
        candidate = candidate_from_sdp(line.removeprefix("candidate:"))
        candidate.sdpMid = signal["candidate"]["sdpMid"]
        await self.pcs[other].addIceCandidate(candidate)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for pc in self.pcs.values():
            await pc.close()


async def until(check: Callable[[], bool], timeout: float = WAIT) -> None:
    """Polls a condition every 50 ms, for at most `timeout` seconds."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


def session_of(client: HubClient) -> dict[str, Any]:
    """The newest session state a client was pushed (by version)."""
    states = [p["session"] for p in client.of_type("rtc.session")]
    return max(states, key=lambda s: (s["session_id"], s["version"]))
