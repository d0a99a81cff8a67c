"""Sockets held and sockets regained: RSS per idle hub socket, and a reconnect storm.

**Idle.** For each size in ``--idle`` and each server in ``--servers``: a few warm sockets first
(one-off allocations go in the baseline), then N idle ones (authenticated and joined for
TwinSpace RT: token, membership, presence, `#general` subscribed), held until RSS settles;
the RSS growth divided by N prices one socket.

**Storm** (TwinSpace RT only): ``--storm`` clients connected and joined, then the node is killed
(SIGKILL, as a crash) and started again on the same port; the moment it listens, every client
reconnects at once (no client-side pacing, as after a restart without backoff jitter) and joins
again. Reported: the time from "listening" to the last client joined, each client's own time,
how many attempts failed (refused, reset, timed out) and how many clients never got back.

    python bench/sockets.py --idle 2000,10000 --storm 3000
    python bench/sockets.py --idle 200 --storm 300 --servers twinspace   # smoke run
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import uvloop
import websockets
from hub_fanout import NAMES, WARM_CONNECTIONS, split, workers
from load import DIALECTS, Tally, Target, connect_all, idle_worker
from runs import abort_after, cancel_abort, code_version, percentile
from seed import seed_twinspace, twinspace_env
from servers import Seat, ServerProcess, raise_fd_limit

SETTLE_SECONDS = 8.0
STORM_ATTEMPT_TIMEOUT = 30.0
STORM_GIVE_UP_SECONDS = 60.0


def idle_phase(
    kind: str, size: int, seats: list[Seat], work_dir: Path, env: dict[str, str], parts: int
) -> dict[str, Any]:
    warm, idle = seats[:WARM_CONNECTIONS], seats[WARM_CONNECTIONS : WARM_CONNECTIONS + size]
    print(f"{NAMES[kind]}: {size} idle sockets", flush=True)
    with ServerProcess(kind, work_dir, env) as server:
        target = Target(kind, server.port, False)
        with workers(idle_worker, [(target, warm)]) as first:
            first.ready()
            time.sleep(SETTLE_SECONDS)
            before = server.usage().rss_kib
            with workers(idle_worker, [(target, s) for s in split(idle, parts)]) as rest:
                connected = rest.ready()
                time.sleep(SETTLE_SECONDS)
                after = server.usage().rss_kib
                still_open = rest.count_open()
                rest.tell(("stop",))
            first.tell(("stop",))
    result = {
        "server": NAMES[kind],
        "sockets": connected,
        "open_after_settling": still_open,
        "rss_before_mib": before / 1024,
        "rss_after_mib": after / 1024,
        "kib_per_socket": (after - before) / connected if connected else float("nan"),
    }
    print(f"  {result['kib_per_socket']:.1f} KiB per socket", flush=True)
    return result


async def _storm(target: Target, seats: list[Seat], pipe: Connection) -> None:
    """Connects and joins every seat, then on ``go`` reconnects them all at once, each retrying
    until it is joined again (or gives up)."""
    tally = Tally()
    clients, failures = await connect_all(target, seats, tally)
    pipe.send(("ready", len(clients), failures[:5], len(failures)))
    loop = asyncio.get_running_loop()
    _, listening_ns = await loop.run_in_executor(None, pipe.recv)
    for client in clients:
        client.stopping = True  # the kill drops them; that is expected
    dialect = DIALECTS[target.kind]
    failed_attempts: list[str] = []
    back: list[Any] = []

    async def rejoin(seat: Seat) -> int | None:
        deadline = time.monotonic() + STORM_GIVE_UP_SECONDS
        while time.monotonic() < deadline:
            try:
                async with asyncio.timeout(STORM_ATTEMPT_TIMEOUT):
                    socket = await websockets.connect(
                        dialect.url(target.port, seat),
                        compression=None,
                        ping_interval=None,
                        max_size=2**20,
                        open_timeout=None,
                    )
                    await dialect.join(socket, seat)
                back.append(socket)
                return time.time_ns() - listening_ns
            except (OSError, TimeoutError, websockets.WebSocketException) as exc:
                failed_attempts.append(f"{type(exc).__name__}: {exc}")
                await asyncio.sleep(0.05)
        return None

    times = await asyncio.gather(*(rejoin(seat) for seat in seats))
    joined = sorted(t for t in times if t is not None)
    pipe.send(
        (
            "done",
            {
                "joined": len(joined),
                "times_ns": joined,
                "failed_attempts": len(failed_attempts),
                "failure_samples": sorted(set(failed_attempts))[:5],
            },
        )
    )
    await pipe_wait(pipe)
    await asyncio.gather(*(s.close() for s in back), return_exceptions=True)
    await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


async def pipe_wait(pipe: Connection) -> None:
    await asyncio.get_running_loop().run_in_executor(None, pipe.recv)


def storm_worker(target: Target, seats: list[Seat], pipe: Connection) -> None:
    raise_fd_limit()
    uvloop.run(_storm(target, seats, pipe))


def storm_phase(
    size: int,
    seats: list[Seat],
    work_dir: Path,
    env: dict[str, str],
    parts: int,
    profile: Path | None,
) -> dict[str, Any]:
    print(f"TwinSpace RT: {size} clients, node killed and restarted, all reconnect", flush=True)
    first = ServerProcess("twinspace", work_dir, env)
    with first:
        target = Target("twinspace", first.port, False)
        with workers(storm_worker, [(target, s) for s in split(seats[:size], parts)]) as group:
            connected = group.ready()
            print(f"  {connected} joined; killing the node", flush=True)
            first.kill()
            prefix = () if profile is None else _py_spy(profile)
            second = ServerProcess("twinspace", work_dir, env, port=first.port, prefix=prefix)
            with second:
                listening_ns = time.time_ns()
                cpu0 = second.usage().cpu_seconds
                group.tell(("go", listening_ns))
                reports = [reply[1] for reply in group.gather(STORM_GIVE_UP_SECONDS + 120)]
                cpu = second.usage().cpu_seconds - cpu0
                group.tell(("stop",))
    times = sorted(t for r in reports for t in r["times_ns"])
    result = {
        "clients": connected,
        "rejoined": len(times),
        "lost": connected - len(times),
        "all_back_s": times[-1] / 1e9 if times else float("nan"),
        "p50_s": percentile(times, 0.5) / 1e9,
        "p99_s": percentile(times, 0.99) / 1e9,
        "failed_attempts": sum(r["failed_attempts"] for r in reports),
        "failure_samples": [s for r in reports for s in r["failure_samples"]][:5],
        "server_cpu_s": cpu,
    }
    print(
        f"  {result['rejoined']} of {connected} back in {result['all_back_s']:.2f} s, "
        f"{result['failed_attempts']} failed attempts",
        flush=True,
    )
    return result


def _py_spy(output: Path) -> tuple[str, ...]:
    """The restarted node under py-spy for the storm's first 20 s (it writes when it ends)."""
    spy = str(Path(sys.executable).parent / "py-spy")
    return (spy, "record", "-r", "200", "-d", "20", "-f", "raw", "-o", str(output), "--")


def report(idle: list[dict[str, Any]], storm: dict[str, Any] | None) -> str:
    lines = [
        "| server | idle sockets | open after settling | RSS before (MiB) | RSS after (MiB) "
        "| KiB per socket |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['server']} | {r['sockets']:,} | {r['open_after_settling']:,} | "
        f"{r['rss_before_mib']:.1f} | {r['rss_after_mib']:.1f} | {r['kib_per_socket']:.1f} |"
        for r in idle
    ]
    if storm is not None:
        lines += [
            "",
            "| reconnect storm | clients | back | lost | last back (s) | p50 / p99 (s) "
            "| failed attempts | server CPU s |",
            "|---|---|---|---|---|---|---|---|",
            f"| TwinSpace RT | {storm['clients']:,} | {storm['rejoined']:,} | {storm['lost']} | "
            f"{storm['all_back_s']:.2f} | {storm['p50_s']:.2f} / {storm['p99_s']:.2f} | "
            f"{storm['failed_attempts']} | {storm['server_cpu_s']:.2f} |",
        ]
        if storm["failure_samples"]:
            lines.append(f"\nfailures, e.g.: {storm['failure_samples']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--idle", default="2000", help="comma-separated socket counts (0: skip)")
    parser.add_argument("--storm", type=int, default=3000, help="clients in the storm (0: skip)")
    parser.add_argument("--servers", default="twinspace,socketio-node", help="for the idle phase")
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--rooms", type=int, default=100, help="projects the pupils are spread over"
    )
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument(
        "--profile", type=Path, help="py-spy's collapsed stacks of the restarted node, here"
    )
    parser.add_argument("--timeout", type=float, default=1800.0)
    args = parser.parse_args(argv)
    sizes = [int(n) for n in args.idle.split(",") if int(n)]
    abort_after(args.timeout)
    command = "python bench/sockets.py " + " ".join(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix="twinspace-bench-") as tmp:
        work_dir = Path(tmp)
        secret = secrets.token_urlsafe(32)
        users = max([WARM_CONNECTIONS + n for n in sizes] + [args.storm])
        seats = seed_twinspace(work_dir / "data", secret, args.rooms, users)
        ours = twinspace_env(work_dir / "data", secret)
        idle = [
            idle_phase(
                kind,
                n,
                seats,
                work_dir,
                ours if kind == "twinspace" else dict(os.environ),
                args.workers,
            )
            for n in sizes
            for kind in args.servers.split(",")
        ]
        storm = (
            storm_phase(args.storm, seats, work_dir, ours, args.workers, args.profile)
            if args.storm
            else None
        )
    cancel_abort()
    print(f"\n`{command}` at `{code_version()}`\n\n{report(idle, storm)}")
    if args.json:
        args.json.write_text(json.dumps({"idle": idle, "storm": storm}, indent=2))


if __name__ == "__main__":
    main()
