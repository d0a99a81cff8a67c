"""A class on the SFU: one teacher publishing to many pupils through Janus, as in issue 16.

Janus (Debian's) runs in a network namespace of its own with the aiortc media peers, exactly as
in `tests/video/test_sfu.py` (`tests/support/janus.py`: root and `ip netns` needed); the server
runs in this process (SQLite in a temporary folder) and signals through the hub like browsers.

1. The teacher publishes a camera (`--width` × `--height`, 30 frames a second, a band of random
   pixels moving over a still picture so that aiortc's VP8 encoder spends about a camera's
   bitrate) and a microphone sending a tone;
   `--pupils` pupils join and subscribe one after the other, each subscription in one of
   `--processes` receiver processes that count the frames they receive instead of decoding
   them (two cores cannot decode 29 videos and run Janus).
   Measured: join-to-first-frame per pupil, from sending `rtc.subscribe` to the first video
   frame counted (p50, p95, max).
2. Steady state over `--window` seconds: Janus's CPU (from /proc, user + system), the streams
   it forwards (pupils × audio and video), the teacher's upload (aiortc's outbound RTP bytes),
   the frames the pupils received, and this process's CPU (the server, with the hub clients
   of the teacher and pupils, which only answer pings then).

    sudo .venv/bin/python bench/sfu_class.py --pupils 29 --processes 4 --window 20

`--event-loops 0,2` runs the class twice in one run: on Janus's default of a thread per handle,
then on two static event loops (`JanusConfig.event_loops`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import SecretStr  # noqa: E402

from tests.chat.test_chat import connect  # noqa: E402
from tests.support.janus import Janus, running_janus  # noqa: E402
from tests.support.live import Live, serve  # noqa: E402
from tests.support.room import make_room  # noqa: E402
from tests.support.sfu_peer import SfuPeer  # noqa: E402
from tests.video.sfu_support import publish, pupils, subscribe  # noqa: E402
from twinspace_rt.settings import Settings  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its threads so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass(frozen=True)
class Sample:
    at: float
    janus_cpu: float
    server_cpu: float
    receivers_cpu: float
    upload: dict[str, int]
    frames: int
    sounds: int


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def run(
    count: int, processes: int, size: tuple[int, int], window: float, event_loops: int | None
) -> None:
    print(f"Janus event loops: {event_loops or 'one thread per handle (Janus default)'}")
    async with running_janus(event_loops) as janus:
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(
                _env_file=None,
                data_dir=Path(folder),
                secret_key="bench-secret-key-that-is-long-enough-for-hs256",
                rtc_janus_socket=janus.socket_path,
                rtc_janus_api_secret=SecretStr(janus.api_secret),
                rtc_janus_admin_key=SecretStr(janus.admin_key),
                rtc_sfu_max=max(50, count + 1),
            )
            async with serve(settings) as live:
                await measure(live, janus, count, processes, size, window)


async def sample(janus: Janus, publisher: SfuPeer, receivers: list[SfuPeer]) -> Sample:
    frames = sounds = 0
    for receiver in receivers:
        received = await receiver.command("received")
        frames += sum(received["frames"].values())
        sounds += sum(received["sounds"].values())
    sent = (await publisher.command("sent"))["sent"]
    assert janus.process is not None
    return Sample(
        at=time.monotonic(),
        janus_cpu=cpu_seconds(janus.process.pid),
        server_cpu=time.process_time(),
        receivers_cpu=sum(cpu_seconds(r.process.pid) for r in receivers),
        upload={kind: totals["bytes"] for kind, totals in sent.items()},
        frames=frames,
        sounds=sounds,
    )


async def measure(
    live: Live, janus: Janus, count: int, processes: int, size: tuple[int, int], window: float
) -> None:
    room = await make_room(live.http, live.services, "bench")
    teacher = await connect(live, room, "teacher_admin")
    clients = await pupils(live, room, count)
    publisher = await SfuPeer.start(janus)
    receivers = [await SfuPeer.start(janus, decode=False) for _ in range(processes)]
    peers = [publisher, *receivers]
    try:
        # Above the mesh cap, whatever the class size: the session runs on Janus.
        await teacher.ok("rtc.start", max_participants=max(count + 1, 30))
        teacher_id = (await teacher.ok("rtc.join"))["participant_id"]
        for client in clients:
            await client.ok("rtc.join")
        await publish(teacher, publisher, size, noise=True)
        await publisher.command("loud", loud=True)
        await clients[0].wait_for("rtc.feed", participant_id=teacher_id, live=True)

        asked: dict[str, float] = {}
        for number, client in enumerate(clients):
            name = f"pupil {number}"
            asked[name] = time.time()
            await subscribe(client, receivers[number % processes], teacher_id, name)
        first: dict[str, float] = {}
        async with asyncio.timeout(120):
            while len(first) < count:
                for receiver in receivers:
                    first.update((await receiver.command("received"))["first"])
                await asyncio.sleep(0.2)
        joins = [first[name] - asked[name] for name in asked]

        before = await sample(janus, publisher, receivers)
        await asyncio.sleep(window)
        after = await sample(janus, publisher, receivers)
        elapsed = after.at - before.at
        janus_share = (after.janus_cpu - before.janus_cpu) / elapsed
        streams = count * 2
        upload_kbps = {
            kind: (sent - before.upload.get(kind, 0)) * 8 / elapsed / 1000
            for kind, sent in after.upload.items()
        }
        print(f"pupils {count}, receiver processes {processes}, camera {size[0]}x{size[1]}")
        print(
            "join-to-first-frame (s): "
            f"p50 {statistics.median(joins):.2f}, p95 {percentile(joins, 0.95):.2f}, "
            f"max {max(joins):.2f}"
        )
        print(f"window {elapsed:.1f} s")
        print(f"Janus CPU: {100 * janus_share:.1f} % of one core")
        print(f"streams forwarded: {streams} ({count} video + {count} audio)")
        if janus_share > 0:
            print(f"forwarded streams per core of Janus: {streams / janus_share:.0f}")
        print(
            "teacher upload (kbit/s): "
            + ", ".join(f"{kind} {kbps:.0f}" for kind, kbps in sorted(upload_kbps.items()))
        )
        print(
            "video frames received per pupil per second: "
            f"{(after.frames - before.frames) / count / elapsed:.1f}; audio frames: "
            f"{(after.sounds - before.sounds) / count / elapsed:.1f}"
        )
        server = (after.server_cpu - before.server_cpu) / elapsed
        print(f"server process CPU: {100 * server:.1f} % of one core")
        receiving = (after.receivers_cpu - before.receivers_cpu) / elapsed
        print(f"receiver processes CPU (all): {100 * receiving:.1f} % of one core")
    finally:
        for peer in peers:
            await peer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=29)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--width", type=int, default=320)
    parser.add_argument("--height", type=int, default=240)
    parser.add_argument("--window", type=float, default=20.0)
    parser.add_argument(
        "--event-loops",
        default="0",
        help="Janus configurations run one after the other in this run: a comma list of its "
        "static event loop counts, 0 for its default of one thread per handle",
    )
    args = parser.parse_args()
    for loops in (int(value) for value in args.event_loops.split(",")):
        size = (args.width, args.height)
        asyncio.run(run(args.pupils, args.processes, size, args.window, loops or None))


if __name__ == "__main__":
    main()
