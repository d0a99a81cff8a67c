"""Cluster benchmark (issue 20): TwinSpace RT nodes sharing PostgreSQL and Redis on one machine.

In one run, with its own ``redis-server`` (on a free loopback port, so it can be restarted) and a
fresh PostgreSQL database ``tsrt_bench_cluster_<random>`` (dropped at the end):

1. one node: chat load, then document load; node CPU per delivered message and update;
2. N nodes (default 3), clients spread round-robin: the same loads; the sum of the nodes' CPU
   per delivery and its ratio to one node (target <= 1.3x), Redis's CPU, PostgreSQL commits
   and rows written per second;
3. a node killed (SIGKILL) under chat load: its clients resume on the others from their last
   contiguous seq; every acknowledged message must reach every member of its room once and be
   stored;
4. Redis killed and started again on the same port under chat load: the same check, and the
   longest stretch without any delivery.

    python bench/cluster.py            # 30 rooms x 30 clients, 10 docs x 10 editors, 30 s windows
    python bench/cluster.py --quick    # a smoke run under two minutes
"""

from __future__ import annotations

import argparse
import json
import math
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from cluster_infra import BenchDatabase, RedisServer
from cluster_phases import ClusterConfig, Scene, chat_window, doc_window
from report import Result, fmt
from runs import abort_after, cancel_abort, code_version
from seed import bench_settings, create_documents, seed_twinspace, twinspace_env
from servers import ServerProcess, free_port

TARGET_RATIO = 1.3
SOCKETS_PER_MEMBER = 20  # TWINSPACE_WS_SOCKETS_PER_MEMBER's default, per node


class Nodes:
    """``twinspace-rt serve`` nodes on fixed ports (a killed one starts again where its clients
    look for it), sharing the database, Redis, its key prefix and the secret key."""

    def __init__(self, work_dir: Path, secret: str, db: BenchDatabase, redis: RedisServer) -> None:
        self.work_dir = work_dir
        self.secret = secret
        self.db = db
        self.redis = redis
        self.prefix = f"bench-{secrets.token_hex(4)}"
        self.running: dict[int, ServerProcess] = {}
        self.ports: dict[int, int] = {}

    def env(self, index: int) -> dict[str, str]:
        data_dir = self.work_dir / f"node{index}"
        data_dir.mkdir(exist_ok=True)
        return twinspace_env(data_dir, self.secret) | {
            "TWINSPACE_DATABASE_URL": self.db.url,
            "TWINSPACE_REDIS_URL": self.redis.url,
            "TWINSPACE_REDIS_PREFIX": self.prefix,
        }

    def start(self, count: int) -> list[ServerProcess]:
        """Nodes 0 .. count-1 running (started if not), and the others stopped."""
        for index in [i for i in self.running if i >= count]:
            self.running.pop(index).stop()
        for index in range(count):
            node = self.running.get(index)
            if node is None or node.process.poll() is not None:
                port = self.ports.setdefault(index, free_port())
                node = ServerProcess("twinspace", self.work_dir, self.env(index), port)
                node.wait_ready()
                self.running[index] = node
        return [self.running[i] for i in range(count)]

    def stop(self) -> None:
        for node in self.running.values():
            node.stop()
        self.running.clear()


def parse_args(argv: list[str] | None) -> tuple[ClusterConfig, argparse.Namespace]:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--rooms", type=int, default=30)
    add("--clients", type=int, default=30, help="chat clients per room")
    add("--period", type=float, default=5.0, help="seconds between one client's messages")
    add("--docs", type=int, default=10)
    add("--editors", type=int, default=10, help="editors per document")
    add("--rate", type=float, default=5.0, help="edits per second per editor")
    add("--duration", type=float, default=30.0, help="each measured window, seconds")
    add("--warmup", type=float, default=5.0, help="load before each window, seconds")
    add("--drain", type=float, default=20.0, help="wait for late deliveries, seconds")
    add("--workers", type=int, default=2, help="chat load processes")
    add("--editor-workers", type=int, default=2, help="Node editor processes")
    add("--nodes", type=int, default=3)
    add("--redis-down", type=float, default=2.0, help="seconds Redis stays down")
    add("--no-deflate", action="store_true", help="clients do not offer permessage-deflate")
    add(
        "--route",
        choices=("spread", "room"),
        default="spread",
        help="clients round-robin over the nodes, or each room's (document's) on one node",
    )
    add("--json", type=Path, help="also write every figure here")
    add("--timeout", type=float, default=1800.0, help="abort the whole run after this")
    add("--quick", action="store_true", help="smoke run: 5 x 10 chat, 3 x 4 docs, 6 s windows")
    args = parser.parse_args(argv)
    if args.quick:
        args.rooms, args.clients, args.docs, args.editors = 5, 10, 3, 4
        args.duration, args.warmup, args.drain = 6.0, 1.0, 8.0
    if args.nodes < 2:
        parser.error("--nodes must be at least 2")
    if args.editors > args.clients:
        parser.error("--editors may not exceed --clients (editors are members of room 0)")
    if args.docs * args.editors > SOCKETS_PER_MEMBER * args.clients:
        # On one node, room 0's pupils hold every editor's socket between them.
        parser.error(f"--docs x --editors may not exceed {SOCKETS_PER_MEMBER} x --clients")
    config = ClusterConfig(
        rooms=args.rooms,
        clients=args.clients,
        period=args.period,
        docs=args.docs,
        editors=args.editors,
        rate=args.rate,
        duration=args.duration,
        warmup=args.warmup,
        drain=args.drain,
        workers=args.workers,
        editor_workers=args.editor_workers,
        nodes=args.nodes,
        redis_down=args.redis_down,
        deflate=not args.no_deflate,
        route=args.route,
    )
    return config, args


def ratio(many: Result, one: Result) -> float:
    return float(many["cpu_us_per_delivery"] / one["cpu_us_per_delivery"])


def report_lines(results: dict[str, Result], config: ClusterConfig) -> list[str]:
    """The figures as markdown: one table for the loads, one for the failures."""
    n = config.nodes
    loads = [results[k] for k in ("chat-1", f"chat-{n}", "docs-1", f"docs-{n}")]
    rows: list[tuple[str, Callable[[Result], str]]] = [
        ("nodes", lambda r: str(r["nodes"])),
        ("deliveries/s", lambda r: fmt(r["deliveries_per_s"], 0)),
        ("latency p50 / p99 ms", lambda r: f"{fmt(r['p50_ms'])} / {fmt(r['p99_ms'])}"),
        ("missing deliveries", lambda r: str(r.get("missing_window", r.get("missing")))),
        ("nodes' CPU %", lambda r: fmt(r["nodes_cpu_percent"], 0)),
        ("nodes' CPU µs per delivery", lambda r: fmt(r["cpu_us_per_delivery"])),
        ("Redis CPU %", lambda r: fmt(r["redis_cpu_percent"])),
        ("PostgreSQL commits/s", lambda r: fmt(r["pg_commits_per_s"], 0)),
        ("PostgreSQL rows written/s", lambda r: fmt(r["pg_rows_per_s"], 0)),
    ]
    lines = ["| | " + " | ".join(r["phase"] for r in loads) + " |", "|---" * 5 + "|"]
    lines += [f"| {label} | " + " | ".join(cell(r) for r in loads) + " |" for label, cell in rows]
    for kind in ("chat", "docs"):
        value = ratio(results[f"{kind}-{n}"], results[f"{kind}-1"])
        verdict = "met" if value <= TARGET_RATIO else "NOT met"
        lines.append(
            f"\n{kind}: CPU per delivery, {n} nodes / 1 node = {value:.2f}x "
            f"(target <= {TARGET_RATIO}x: {verdict})"
        )
    faults = [results["node-killed"], results["redis-restarted"]]
    fault_rows: list[tuple[str, Callable[[Result], str]]] = [
        ("messages acknowledged", lambda r: str(r["acked"])),
        ("sent, never acknowledged", lambda r: str(r["unacked"])),
        ("lost (acked, not delivered to a member)", lambda r: str(r["lost"])),
        ("duplicates (same seq twice to a socket)", lambda r: str(r["duplicates"])),
        ("acknowledged, not stored", lambda r: str(r["acked_not_stored"])),
        ("clients that reconnected", lambda r: str(r["clients_moved"])),
        ("all of them back after, s", lambda r: fmt(r["all_back_s"], 2)),
        ("clients not back", lambda r: str(r["not_back"])),
        ("disturbance (kill; Redis down and up again), s", lambda r: fmt(r["disturbance_s"], 2)),
        ("longest stretch without any delivery, s", lambda r: fmt(r["longest_delivery_gap_s"], 2)),
        ("deliveries over 1 s late", lambda r: str(r["late"])),
        ("last late delivery after the disturbance, s", lambda r: fmt(r["late_caught_up_s"], 2)),
        ("deliveries replayed (client resume, node catch-up)", lambda r: str(r["replayed"])),
        ("chat.resync pushes", lambda r: str(r["resyncs"])),
        ("error replies", lambda r: str(r["errors"])),
        ("acks of a resent message (duplicate: true)", lambda r: str(r["duplicate_acks"])),
        ("latency p99 / max ms", lambda r: f"{fmt(r['p99_ms'])} / {fmt(r['max_ms'])}"),
    ]
    lines += ["", "| | " + " | ".join(r["phase"] for r in faults) + " |", "|---|---|---|"]
    lines += [
        f"| {label} | " + " | ".join(cell(r) for r in faults) + " |" for label, cell in fault_rows
    ]
    return lines


def run(config: ClusterConfig, work_dir: Path, stack: ExitStack) -> dict[str, Result]:
    db = stack.enter_context(BenchDatabase())
    redis = stack.enter_context(RedisServer(work_dir))
    secret = secrets.token_urlsafe(32)
    started = time.monotonic()
    seats = seed_twinspace(
        work_dir / "seed", secret, config.rooms, config.rooms * config.clients, db.url
    )
    project_id = seats[0].project_id
    labels = ("docs-1", f"docs-{config.nodes}")
    names = [f"{label}-{d}" for label in labels for d in range(config.docs)]
    create_documents(bench_settings(work_dir / "seed", secret, db.url), project_id, names)
    tokens = [seat.token for seat in seats if seat.room == 0]
    print(f"seeded {db.name}, {len(seats)} pupils in {time.monotonic() - started:.1f} s")
    nodes = Nodes(work_dir, secret, db, redis)
    stack.callback(nodes.stop)
    results: dict[str, Result] = {}

    def scene(count: int) -> Scene:
        return Scene(nodes.start(count), redis, db, work_dir)

    results["chat-1"] = chat_window("chat-1", scene(1), config, seats)
    results["docs-1"] = doc_window("docs-1", scene(1), config, project_id, tokens)
    many = f"chat-{config.nodes}"
    results[many] = chat_window(many, scene(config.nodes), config, seats)
    many = f"docs-{config.nodes}"
    results[many] = doc_window(many, scene(config.nodes), config, project_id, tokens)
    live = scene(config.nodes)
    results["node-killed"] = chat_window("node-killed", live, config, seats, live.nodes[-1].kill)
    live = scene(config.nodes)
    results["redis-restarted"] = chat_window(
        "redis-restarted", live, config, seats, lambda: redis.restart(config.redis_down)
    )
    return results


def main(argv: list[str] | None = None) -> None:
    config, args = parse_args(argv)
    abort_after(args.timeout)
    command = "python bench/cluster.py " + " ".join(sys.argv[1:] if argv is None else argv)
    version = code_version()
    with tempfile.TemporaryDirectory(prefix="twinspace-cluster-") as tmp, ExitStack() as stack:
        results = run(config, Path(tmp), stack)
    cancel_abort()
    lines = [f"`{command}` at `{version}`", "", *report_lines(results, config)]
    print("\n" + "\n".join(lines))
    if args.json:
        clean: dict[str, Any] = {
            k: {f: (None if isinstance(v, float) and math.isnan(v) else v) for f, v in r.items()}
            for k, r in results.items()
        }
        args.json.write_text(
            json.dumps({"version": version, "config": vars(config), "results": clean}, indent=2)
        )


if __name__ == "__main__":
    main()
