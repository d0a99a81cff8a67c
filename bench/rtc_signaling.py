"""Video signaling: how fast a full mesh connects, and how long one `rtc.signal` takes to relay.

One node in this process (uvicorn on a loopback ephemeral port, SQLite in a temporary folder),
real aiortc peers with ICE on loopback, as in `tests/video/test_video.py`:

1. `--peers` classrooms (default 6, the mesh cap) join one after the other; each newcomer calls
   those present. Measured: from the last join to every peer having video frames, sound and a
   data-channel message from every other.
2. With the media closed (it shares this process's CPU) but the seats kept, one participant
   relays `--signals` end-of-candidates signals to another, one at a time. Measured: from
   sending each request to the push arriving on the other socket (p50, p99).

    .venv/bin/python bench/rtc_signaling.py --peers 6 --signals 500
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.chat.test_chat import connect  # noqa: E402
from tests.support.live import serve  # noqa: E402
from tests.support.room import make_room  # noqa: E402
from tests.support.rtc_peer import Peer, loopback_only, until  # noqa: E402
from twinspace_rt.settings import Settings  # noqa: E402

ROLES = ("teacher_admin", "teacher", "expert", "observer", "pupil_admin", "pupil")


async def run(peers: int, signals: int) -> None:
    with tempfile.TemporaryDirectory() as folder, pytest.MonkeyPatch.context() as patch:
        loopback_only(patch)
        settings = Settings(
            _env_file=None,
            data_dir=Path(folder),
            secret_key="bench-secret-key-that-is-long-enough-for-hs256",
            rtc_mesh_max=peers,
            rtc_signal_burst=signals + 10,
            rtc_signal_rate_per_second=10_000,
        )
        async with serve(settings) as live:
            room = await make_room(live.http, live.services, "bench")
            # A project has one member per role: extra peers reuse roles by new rooms' members.
            classes = [
                Peer(await connect(live, room, ROLES[i]), ROLES[i], (64 + 16 * i, 48))
                for i in range(peers)
            ]
            try:
                await classes[0].client.ok("rtc.start")
                began = time.perf_counter()
                for i, peer in enumerate(classes):
                    await peer.join()
                    for other in classes[:i]:
                        await peer.call(other.participant_id)
                await until(
                    lambda: all(a.sees(b) for a in classes for b in classes if a is not b),
                    timeout=120,
                )
                mesh = time.perf_counter() - began
                print(
                    f"{peers} peers, {peers * (peers - 1) // 2} connections: mesh up in "
                    f"{mesh:.2f} s after the first join"
                )

                # Media off (it shares this process's CPU), seats and sockets kept.
                for peer in classes:
                    await peer.close()
                sender, receiver = classes[0], classes[1]
                base = len(receiver.client.of_type("rtc.signal"))
                latencies = []
                end = {"candidate": "", "sdpMid": "0"}
                for n in range(signals):
                    if n % 50 == 0:
                        await receiver.client.ok("ping")  # a sign of life: it only receives
                    sent = time.perf_counter()
                    await sender.client.ok("rtc.signal", to=receiver.participant_id, candidate=end)
                    await receiver.client.wait_for("rtc.signal", count=base + n + 1)
                    latencies.append((time.perf_counter() - sent) * 1000)
                latencies.sort()
                p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
                print(
                    f"rtc.signal relay over {signals}: p50 {statistics.median(latencies):.2f} ms,"
                    f" p99 {p99:.2f} ms"
                )
            finally:
                for peer in classes:
                    await peer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", type=int, default=6, choices=range(2, 7))
    parser.add_argument("--signals", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(asyncio.wait_for(run(args.peers, args.signals), 300))


if __name__ == "__main__":
    main()
