"""An aiortc media peer for the SFU tests, run inside the test's network namespace.

The test process (outside the namespace) does the signaling through the hub like a browser's
script; this process is the browser's media engine. They talk over its stdin and stdout, one
JSON object a line: the test hands it descriptions and asks what it received. Its host
candidates are restricted to the namespace's private address (aioice offers no option for it), so
every packet stays inside the namespace.

Commands: ``publish`` (a named feed: unless ``video`` or ``audio`` is false, video of a given
size, blank or with ``noise``, and a microphone; answers the offer), ``answered`` (the SFU's answer to that
offer), ``hangup`` (a published feed's connection closes, as when its page goes), ``loud`` (the microphones send a loud tone, or silence), ``accept`` (an SFU offer of a
feed, named by the test; answers the answer), ``received`` (frame sizes, video frame counts and
audio frame counts per name, and when each name's first video frame arrived), ``sent`` (RTP
packets and bytes the published feeds sent, by kind).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from tests.support.janus import JANUS_ADDRESS, Janus
from tests.support.waiting import WAIT


class SfuPeer:
    """The test's side: starts the peer in the namespace and sends it commands."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self._lock = asyncio.Lock()

    @classmethod
    async def start(
        cls, janus: Janus, *, decode: bool = True, address: str = JANUS_ADDRESS
    ) -> SfuPeer:
        """``decode=False``: received frames are counted, not decoded (a benchmark's many
        receivers on two cores); their sizes show as 0 × 0. ``address``: Janus's own in its
        namespace (the browser test's namespace has another)."""
        root = Path(__file__).resolve().parents[2]
        argv = janus.in_namespace(
            sys.executable,
            "-m",
            "tests.support.sfu_peer",
            address,
            *(() if decode else ("count",)),
        )
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=root,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 20,
        )
        peer = cls(process)
        # Loading aiortc takes seconds of CPU: one peer at a time, each within the bound, and
        # never inside a command's.
        assert process.stdout is not None
        try:
            async with asyncio.timeout(WAIT):
                ready = await process.stdout.readline()
        except TimeoutError:
            await peer.close()
            raise
        assert json.loads(ready or b"{}").get("ready"), "the media peer did not start"
        return peer

    async def command(self, op: str, **fields: Any) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        async with self._lock, asyncio.timeout(WAIT):
            self.process.stdin.write(json.dumps({"op": op, **fields}).encode() + b"\n")
            await self.process.stdin.drain()
            line = await self.process.stdout.readline()
        assert line, "the media peer exited"
        reply: dict[str, Any] = json.loads(line)
        assert "error" not in reply, reply["error"]
        return reply

    async def close(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                async with asyncio.timeout(WAIT):
                    await self.process.wait()
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


def _tone_track() -> Any:
    """A microphone that sends silence, or a loud 440 Hz tone while ``loud`` is set (Janus's
    audio levels, from the ``ssrc-audio-level`` extension aiortc fills in, tell them apart)."""
    import math
    import struct

    from aiortc import AudioStreamTrack
    from av import AudioFrame

    class ToneTrack(AudioStreamTrack):
        loud = False
        _played = 0

        async def recv(self) -> AudioFrame:
            frame = await super().recv()
            if not self.loud:
                return frame
            assert isinstance(frame, AudioFrame)
            rate, count = frame.sample_rate, frame.samples
            start, self._played = self._played, self._played + count
            tone = struct.pack(
                f"<{count}h",
                *(
                    int(20000 * math.sin(2 * math.pi * 440 * (start + i) / rate))
                    for i in range(count)
                ),
            )
            frame.planes[0].update(tone)
            return frame

    return ToneTrack()


def _count_instead_of_decoding() -> None:
    """aiortc decodes every received frame in a thread per receiver; this one only hands the
    track a placeholder per encoded frame."""
    from types import SimpleNamespace

    import aiortc.rtcrtpreceiver

    counted = SimpleNamespace(width=0, height=0)

    def worker(loop: asyncio.AbstractEventLoop, input_q: Any, output_q: Any, *_: Any) -> None:
        while True:
            task = input_q.get()
            asyncio.run_coroutine_threadsafe(output_q.put(None if task is None else counted), loop)
            if task is None:
                return

    aiortc.rtcrtpreceiver.decoder_worker = worker  # type: ignore[assignment]


async def _serve(address: str, decode: bool) -> None:
    """The namespace side: one aiortc peer connection per published or accepted feed."""
    import time

    import aioice.ice
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from aiortc.mediastreams import MediaStreamError, MediaStreamTrack

    from tests.support.rtc_peer import SizedTrack

    class NoiseTrack(SizedTrack):
        """A band of random pixels moving down a still picture: an eighth of the picture changes
        every frame, so the encoder spends a camera's bitrate (a whole random picture would
        cost several times more than any camera)."""

        shown = 0

        async def recv(self) -> Any:
            frame = await super().recv()
            luma = frame.planes[0]
            band = luma.buffer_size // 8
            start = (self.shown % 8) * band
            self.shown += 1
            picture = bytearray(luma.buffer_size)
            picture[start : start + band] = os.urandom(band)
            luma.update(bytes(picture))
            return frame

    if not decode:
        _count_instead_of_decoding()
    aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: [address]
    first: dict[str, float] = {}
    connections: list[RTCPeerConnection] = []
    publishers: dict[str, RTCPeerConnection] = {}
    microphones: list[Any] = []
    sizes: dict[str, set[tuple[int, int]]] = defaultdict(set)
    frames: dict[str, int] = defaultdict(int)
    sounds: dict[str, int] = defaultdict(int)
    tasks: list[asyncio.Task[None]] = []

    async def receive(name: str, track: MediaStreamTrack) -> None:
        while True:
            try:
                frame = await track.recv()
            except MediaStreamError:
                return
            if track.kind == "video":
                sizes[name].add((frame.width, frame.height))  # type: ignore[union-attr]
                frames[name] += 1
                first.setdefault(name, time.time())
            else:
                sounds[name] += 1

    async def handle(command: dict[str, Any]) -> dict[str, Any]:
        op = command["op"]
        if op == "publish":
            publisher = publishers[command.get("name", "camera")] = RTCPeerConnection()
            connections.append(publisher)
            if command.get("video", True):
                track = NoiseTrack if command.get("noise") else SizedTrack
                publisher.addTrack(track(command["width"], command["height"]))
            if command.get("audio", True):
                microphone = _tone_track()
                microphones.append(microphone)
                publisher.addTrack(microphone)
            await publisher.setLocalDescription(await publisher.createOffer())
            return {"sdp": publisher.localDescription.sdp}
        if op == "answered":
            answer = RTCSessionDescription(command["sdp"], "answer")
            await publishers[command.get("name", "camera")].setRemoteDescription(answer)
            return {}
        if op == "hangup":
            # A page closed: the named feed's connection ends (DTLS says so to Janus).
            await publishers.pop(command.get("name", "camera")).close()
            return {}
        if op == "loud":
            for microphone in microphones:
                microphone.loud = command["loud"]
            return {}
        if op == "accept":
            name = command["name"]
            pc = RTCPeerConnection()
            connections.append(pc)
            pc.on("track", lambda track: tasks.append(asyncio.create_task(receive(name, track))))
            await pc.setRemoteDescription(RTCSessionDescription(command["sdp"], "offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            return {"sdp": pc.localDescription.sdp}
        if op == "states":
            return {"states": [[pc.iceConnectionState, pc.connectionState] for pc in connections]}
        if op == "received":
            return {
                "sizes": {name: sorted(found) for name, found in sizes.items()},
                "frames": dict(frames),
                "sounds": dict(sounds),
                "first": first,
            }
        if op == "sent":
            # What the published feeds sent so far, by kind (RTP packets and bytes).
            sent: dict[str, dict[str, int]] = {}
            for publisher in publishers.values():
                for stats in (await publisher.getStats()).values():
                    if stats.type == "outbound-rtp":
                        total = sent.setdefault(stats.kind, {"packets": 0, "bytes": 0})
                        total["packets"] += stats.packetsSent
                        total["bytes"] += stats.bytesSent
            return {"sent": sent}
        return {"error": f"unknown op {op!r}"}

    reader = asyncio.StreamReader(limit=1 << 20)
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    # aiortc and PyAV are loaded: the test's commands are timed from here.
    sys.stdout.write(json.dumps({"ready": True}) + "\n")
    sys.stdout.flush()
    try:
        while line := await reader.readline():
            try:
                reply = await handle(json.loads(line))
            except Exception as exc:  # reported to the test, which fails with it
                reply = {"error": repr(exc)}
            sys.stdout.write(json.dumps(reply) + "\n")
            sys.stdout.flush()
    finally:
        for task in tasks:
            task.cancel()
        for pc in connections:
            await pc.close()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1], decode=sys.argv[2:] != ["count"]))
