"""Hub fan-out benchmark: TwinSpace RT against python-socketio, Socket.IO on Node and a bare
websockets server.

R rooms x C clients each send one chat message every P seconds (random phase) to their room;
every client receives every message of its room, its own included. TwinSpace RT stores each
message in SQLite before fanning it out; the two baselines store nothing. Each server runs
alone in its own process while load workers (other processes) drive it, one server after the
other, on the same load. Then each server holds idle connections, to price one in RSS, and
TwinSpace RT holds ``--hold`` connections for ``--hold-seconds``.

    python bench/hub_fanout.py            # the issue's targets: 100 x 30, 1 msg / 5 s, 30 s
    python bench/hub_fanout.py --quick    # 10 x 10 for 10 s, a smoke run
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import secrets
import sys
import tempfile
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from load import Target, chat_worker, idle_worker
from report import Config, Result, chat_table, idle_table, ratio_lines, verdicts
from runs import abort_after, cancel_abort, code_version, percentile, sleep_until
from seed import count_messages, seed_twinspace, twinspace_env
from servers import KINDS, Seat, ServerProcess, usage

NAMES = {
    "twinspace": "TwinSpace RT",
    "socketio": "python-socketio",
    "socketio-node": "Socket.IO 4.8 on Node",
    "websockets": "bare websockets",
}
WARM_CONNECTIONS = 20
SETTLE_SECONDS = 5.0
READY_TIMEOUT = 300.0


class Workers:
    """Load generator processes, each with a pipe to the coordinator; always reaped on exit."""

    def __init__(self, entry: Callable[..., None], shares: list[tuple[Any, ...]]) -> None:
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes: list[BaseProcess] = []
        for share in shares:
            mine, theirs = context.Pipe()
            process = context.Process(target=entry, args=(*share, theirs), daemon=True)
            process.start()
            self.pipes.append(mine)
            self.processes.append(process)

    def gather(self, timeout: float) -> list[Any]:
        deadline = time.monotonic() + timeout
        replies = []
        for pipe, process in zip(self.pipes, self.processes, strict=True):
            while not pipe.poll(0.2):
                if not process.is_alive():
                    raise RuntimeError(f"load worker {process.pid} died")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"load worker {process.pid} did not answer")
            replies.append(pipe.recv())
        return replies

    def tell(self, message: tuple[Any, ...]) -> None:
        for pipe in self.pipes:
            pipe.send(message)

    def ready(self) -> int:
        """Waits until every worker has connected its clients; returns how many did."""
        replies = self.gather(READY_TIMEOUT)
        failed = sum(reply[3] for reply in replies)
        if failed:
            samples = [sample for reply in replies for sample in reply[2]]
            print(f"  {failed} connections failed, e.g. {samples[:3]}", flush=True)
        return sum(reply[1] for reply in replies)

    def count_open(self) -> int:
        self.tell(("count",))
        return sum(reply[1] for reply in self.gather(60))

    def cpu_seconds(self) -> float:
        return sum(usage(p.pid).cpu_seconds for p in self.processes if p.pid is not None)

    def close(self) -> None:
        for process in self.processes:
            process.join(15)
            if process.is_alive():
                process.terminate()
                process.join(5)


@contextmanager
def workers(entry: Callable[..., None], shares: list[tuple[Any, ...]]) -> Iterator[Workers]:
    group = Workers(entry, shares)
    try:
        yield group
    finally:
        group.close()


def split(seats: list[Seat], parts: int) -> list[list[Seat]]:
    return [share for share in (seats[i::parts] for i in range(parts)) if share]


def by_room(seats: list[Seat], parts: int) -> list[list[Seat]]:
    """Whole rooms per worker, so each message's deliveries are all counted in one process."""
    return [
        share
        for share in ([s for s in seats if s.room % parts == i] for i in range(parts))
        if share
    ]


def merged(reports: list[Result], key: str) -> list[int]:
    values: array[int] = array("q")
    for report in reports:
        values.frombytes(report[key])
    return sorted(values)


def run_chat(
    kind: str, config: Config, seats: list[Seat], work_dir: Path, env: dict[str, str]
) -> Result:
    """One server under the chat load; figures cover the messages sent inside the window."""
    print(f"{NAMES[kind]}: {config.rooms} rooms x {config.clients} clients chatting", flush=True)
    with ExitStack() as stack:
        server = stack.enter_context(ServerProcess(kind, work_dir, env))
        target = Target(kind, server.port, config.deflate)
        shares = by_room(seats[: config.rooms * config.clients], config.workers)
        begun = time.monotonic()
        group = stack.enter_context(
            workers(chat_worker, [(target, s, config.period) for s in shares])
        )
        connected = group.ready()
        connect_seconds = time.monotonic() - begun
        print(
            f"  {connected} clients connected in {connect_seconds:.0f} s; "
            f"warm-up {config.warmup:.0f} s",
            flush=True,
        )
        start_ns = time.time_ns() + 500_000_000
        t0_ns = start_ns + int(config.warmup * 1e9)
        t1_ns = t0_ns + int(config.duration * 1e9)
        group.tell(("start", start_ns, t0_ns, t1_ns, config.drain))
        sleep_until(t0_ns)
        server0, load0 = server.usage(), group.cpu_seconds()
        sleep_until(t1_ns)
        server1, load1 = server.usage(), group.cpu_seconds()
        reports = [reply[1] for reply in group.gather(config.drain + 60)]
        log_tail = server.log_tail(8)
    latencies = merged(reports, "latencies_us")
    delivered = sum(r["delivered"] for r in reports)
    cpu = server1.cpu_seconds - server0.cpu_seconds
    result: Result = {
        "server": NAMES[kind],
        "clients": connected,
        "connect_seconds": connect_seconds,
        "sent": sum(r["sent"] for r in reports),
        "deliveries": delivered,
        "deliveries_per_s": delivered / config.duration,
        "p50_ms": percentile(latencies, 0.50) / 1000,
        "p99_ms": percentile(latencies, 0.99) / 1000,
        "max_ms": percentile(latencies, 1.0) / 1000,
        "undelivered": sum(r["expected"] for r in reports) - delivered,
        "duplicates": sum(r["duplicates"] for r in reports),
        "server_cpu_s": cpu,
        "server_cpu_percent": 100 * cpu / config.duration,
        "cpu_s_per_1000": 1000 * cpu / delivered if delivered else float("nan"),
        "deliveries_per_cpu_s": delivered / cpu if cpu else float("nan"),
        "server_rss_mib": server1.rss_kib / 1024,
        "generator_cpu_percent": 100 * (load1 - load0) / config.duration,
        "send_lag_p99_ms": percentile(merged(reports, "send_lag_us"), 0.99) / 1000,
        "errors": sum(r["errors"] for r in reports),
        "dropped": sum(r["dropped"] for r in reports),
        "sent_total": sum(r["sent_total"] for r in reports),
    }
    if kind == "twinspace":
        result["stored"] = count_messages(work_dir / "data")
    if result["errors"] or result["dropped"]:
        result["server_log_tail"] = log_tail
    print(
        f"  {result['deliveries_per_s']:.0f} deliveries/s, p99 {result['p99_ms']:.1f} ms, "
        f"server CPU {result['server_cpu_percent']:.0f} %",
        flush=True,
    )
    return result


def run_idle(
    kind: str, config: Config, seats: list[Seat], work_dir: Path, env: dict[str, str]
) -> Result:
    """Prices an idle connection in server RSS; for TwinSpace RT also holds ``--hold`` of them.

    A few warm connections come first so that one-off allocations (first socket, first room)
    are in the baseline rather than charged to the idle connections.
    """
    hold = config.hold if kind == "twinspace" else 0
    print(
        f"{NAMES[kind]}: {config.idle} idle connections" + (f", then {hold} held" if hold else ""),
        flush=True,
    )
    warm = seats[:WARM_CONNECTIONS]
    idle = seats[WARM_CONNECTIONS : WARM_CONNECTIONS + config.idle]
    extra = seats[WARM_CONNECTIONS + config.idle : max(hold, WARM_CONNECTIONS + config.idle)]
    result: Result = {"server": NAMES[kind]}
    with ExitStack() as stack:
        server = stack.enter_context(ServerProcess(kind, work_dir, env))
        target = Target(kind, server.port, config.deflate)
        groups = [stack.enter_context(workers(idle_worker, [(target, warm)]))]
        groups[0].ready()
        time.sleep(SETTLE_SECONDS)
        before = server.usage().rss_kib
        groups.append(
            stack.enter_context(
                workers(idle_worker, [(target, s) for s in split(idle, config.workers)])
            )
        )
        connected = groups[1].ready()
        time.sleep(SETTLE_SECONDS)
        after = server.usage().rss_kib
        result.update(
            idle_connected=connected,
            rss_before_mib=before / 1024,
            rss_after_mib=after / 1024,
            kib_per_connection=(after - before) / connected if connected else float("nan"),
        )
        if hold:
            started = time.monotonic()
            groups.append(
                stack.enter_context(
                    workers(idle_worker, [(target, s) for s in split(extra, config.workers)])
                )
            )
            held = sum(group.ready() for group in groups[2:]) + connected + len(warm)
            print(
                f"  {held} connections open after {time.monotonic() - started:.0f} s; "
                f"holding {config.hold_seconds:.0f} s",
                flush=True,
            )
            cpu0 = server.usage().cpu_seconds
            time.sleep(config.hold_seconds)
            held_usage = server.usage()
            result.update(
                hold_connected=held,
                hold_open_at_end=sum(group.count_open() for group in groups),
                hold_rss_mib=held_usage.rss_kib / 1024,
                hold_cpu_percent=100 * (held_usage.cpu_seconds - cpu0) / config.hold_seconds,
            )
        for group in groups:
            group.tell(("stop",))
    print(f"  {result['kib_per_connection']:.1f} KiB per idle connection", flush=True)
    return result


def parse_args(argv: list[str] | None = None) -> tuple[Config, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--clients", type=int, default=30, help="clients per room")
    parser.add_argument(
        "--period", type=float, default=5.0, help="seconds between one client's messages"
    )
    parser.add_argument("--duration", type=float, default=30.0, help="measured window, seconds")
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="load before the window, seconds"
    )
    parser.add_argument(
        "--drain", type=float, default=10.0, help="wait for late deliveries, seconds"
    )
    parser.add_argument("--idle", type=int, default=2000, help="idle connections priced per server")
    parser.add_argument(
        "--hold", type=int, default=5000, help="connections TwinSpace RT must hold (0: skip)"
    )
    parser.add_argument(
        "--hold-seconds", type=float, default=40.0, help="longer than a ping interval"
    )
    parser.add_argument("--workers", type=int, default=2, help="load generator processes")
    parser.add_argument(
        "--no-deflate", action="store_true", help="clients do not offer permessage-deflate"
    )
    parser.add_argument(
        "--servers", default=",".join(KINDS), help="comma-separated subset, ours first"
    )
    parser.add_argument("--json", type=Path, help="also write every figure here")
    parser.add_argument(
        "--timeout", type=float, default=1800.0, help="abort the whole run after this"
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 10 x 10, 10 s, 200 idle, no hold"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.rooms, args.clients, args.duration, args.warmup, args.drain = 10, 10, 10.0, 3.0, 5.0
        args.idle, args.hold = 200, 0
    config = Config(
        rooms=args.rooms,
        clients=args.clients,
        period=args.period,
        duration=args.duration,
        warmup=args.warmup,
        drain=args.drain,
        idle=args.idle,
        hold=args.hold,
        hold_seconds=args.hold_seconds,
        workers=args.workers,
        deflate=not args.no_deflate,
    )
    return config, args


def main(argv: list[str] | None = None) -> None:
    config, args = parse_args(argv)
    kinds = args.servers.split(",")
    abort_after(args.timeout)
    command = "python bench/hub_fanout.py " + " ".join(sys.argv[1:] if argv is None else argv)
    version = code_version()
    with tempfile.TemporaryDirectory(prefix="twinspace-bench-") as tmp:
        work_dir = Path(tmp)
        secret = secrets.token_urlsafe(32)
        users = max(config.rooms * config.clients, config.hold, WARM_CONNECTIONS + config.idle)
        started = time.monotonic()
        seats = seed_twinspace(work_dir / "data", secret, config.rooms, users)
        print(
            f"seeded {config.rooms} projects, {users} pupils in {time.monotonic() - started:.1f} s",
            flush=True,
        )
        envs = {kind: dict(os.environ) for kind in KINDS} | {
            "twinspace": twinspace_env(work_dir / "data", secret)
        }
        chat = [run_chat(kind, config, seats, work_dir, envs[kind]) for kind in kinds]
        idle = (
            [run_idle(kind, config, seats, work_dir, envs[kind]) for kind in kinds]
            if config.idle
            else []
        )
    cancel_abort()
    report = [f"`{command}` at `{version}`", "", chat_table(chat), "", ratio_lines(chat)]
    if idle:
        report += ["", idle_table(idle)]
    if kinds[:2] == ["twinspace", "socketio"] and idle:
        report += ["", verdicts(chat, idle, config)]
    print("\n" + "\n".join(report))
    if args.json:
        args.json.write_text(
            json.dumps(
                {"version": version, "config": vars(config), "chat": chat, "idle": idle}, indent=2
            )
        )


if __name__ == "__main__":
    main()
