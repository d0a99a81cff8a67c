"""The windows of ``cluster.py``: a chat window (optionally disturbed: a node killed, Redis
restarted) and a document window, each on a given set of running nodes."""

from __future__ import annotations

import time
from array import array
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cluster_infra import BenchDatabase, RedisServer
from cluster_load import cluster_chat_worker
from editors import Address, Editors
from hub_fanout import by_room, workers
from report import Result
from runs import percentile, sleep_until
from servers import HOST, Seat, ServerProcess
from yjs_phases import connect

STATS_SETTLE_SECONDS = 1.5  # pg_stat_database is flushed about once a second


@dataclass(frozen=True)
class ClusterConfig:
    rooms: int
    clients: int
    period: float
    docs: int
    editors: int
    rate: float
    duration: float
    warmup: float
    drain: float
    workers: int
    editor_workers: int
    nodes: int
    redis_down: float
    deflate: bool
    # "room": each room's (document's) clients on one node, as a proxy routing by project (or
    # by document) would; "spread": round-robin, so every room spans every node.
    route: str = "spread"


@dataclass
class Scene:
    """What a window runs on: the live nodes, the bench Redis and database."""

    nodes: list[ServerProcess]
    redis: RedisServer
    db: BenchDatabase
    work_dir: Path


def _merged(reports: list[dict[str, Any]], key: str) -> list[int]:
    values: array[int] = array("q")
    for report in reports:
        values.frombytes(report[key])
    return sorted(values)


def _longest_gap_ms(arrivals: list[int], since_ms: int) -> int:
    """The longest stretch without any delivery, from ``since_ms`` to the last arrival."""
    later = [since_ms] + [a for a in arrivals if a >= since_ms]
    return max((b - a for a, b in zip(later, later[1:], strict=False)), default=0)


def _backend_usage(scene: Scene) -> tuple[float, float, Any]:
    return (
        sum(node.usage().cpu_seconds for node in scene.nodes),
        scene.redis.cpu_seconds(),
        scene.db.stats(),
    )


def _costs(
    result: Result,
    before: tuple[float, float, Any],
    after: tuple[float, float, Any],
    seconds: float,
    delivered: int,
) -> None:
    cpu = after[0] - before[0]
    result.update(
        nodes_cpu_s=cpu,
        nodes_cpu_percent=100 * cpu / seconds,
        cpu_us_per_delivery=1e6 * cpu / delivered if delivered else float("nan"),
        redis_cpu_percent=100 * (after[1] - before[1]) / seconds,
        pg_commits_per_s=(after[2].commits - before[2].commits) / seconds,
        pg_rows_per_s=(after[2].rows_written - before[2].rows_written) / seconds,
    )


def chat_window(
    label: str,
    scene: Scene,
    config: ClusterConfig,
    seats: list[Seat],
    disturb: Callable[[], None] | None = None,
) -> Result:
    """Chat load over every node of ``scene``; ``disturb`` runs a third into the window. CPU
    per delivery is only given for an undisturbed window (a killed node's CPU is gone)."""
    print(f"{label}: {len(seats)} chat clients over {len(scene.nodes)} node(s)", flush=True)
    ports = [node.port for node in scene.nodes]
    shares = by_room(seats, config.workers)
    result: Result = {"phase": label, "nodes": len(ports)}
    run_seconds = config.warmup + config.duration + config.drain + 120
    with workers(
        cluster_chat_worker,
        [(ports, s, config.period, config.deflate, config.route == "room") for s in shares],
    ) as group:
        result["clients"] = group.ready()
        start_ns = time.time_ns() + 500_000_000
        t0_ns = start_ns + int(config.warmup * 1e9)
        t1_ns = t0_ns + int(config.duration * 1e9)
        group.tell(("start", start_ns, t0_ns, t1_ns, config.drain, run_seconds))
        sleep_until(t0_ns)
        before = _backend_usage(scene)
        event_ns = 0
        if disturb is not None:
            sleep_until(t0_ns + int(config.duration * 1e9 / 3))
            event_ns = time.time_ns()
            disturb()
            result["disturbance_s"] = (time.time_ns() - event_ns) / 1e9
        sleep_until(t1_ns)
        after = _backend_usage(scene) if disturb is None else None
        reports = [reply[1] for reply in group.gather(run_seconds + 60)]
    time.sleep(STATS_SETTLE_SECONDS)
    totals = {
        key: sum(r[key] for r in reports)
        for key in (
            "sent_total",
            "sent_window",
            "acked",
            "unacked",
            "expected_window",
            "delivered_window",
            "lost",
            "duplicates",
            "errors",
            "resyncs",
            "reconnects",
            "duplicate_acks",
            "replayed",
            "late",
            "not_back",
        )
    }
    result.update(totals)
    latencies = _merged(reports, "latencies_us")
    result.update(
        deliveries_per_s=totals["delivered_window"] / config.duration,
        missing_window=totals["expected_window"] - totals["delivered_window"],
        p50_ms=percentile(latencies, 0.50) / 1000,
        p99_ms=percentile(latencies, 0.99) / 1000,
        max_ms=percentile(latencies, 1.0) / 1000,
    )
    acked = {tuple(pair) for r in reports for pair in r["acked_seqs"]}
    result["acked_not_stored"] = len(acked - scene.db.stored_general())
    if after is not None:
        _costs(result, before, after, config.duration, totals["delivered_window"])
    if disturb is not None:
        moved = [(c, b) for r in reports for c, b in r["outages"] if c >= event_ns - 1_000_000_000]
        result["clients_moved"] = len(moved)
        result["all_back_s"] = max((b - event_ns for _, b in moved), default=0) / 1e9
        event_ms = (event_ns - start_ns) // 1_000_000
        result["longest_delivery_gap_s"] = (
            _longest_gap_ms(_merged(reports, "arrivals_ms"), event_ms) / 1000
        )
        # From the end of the disturbance (Redis back, or the kill done) to the last delivery
        # it held up (one over a second late), if any was.
        last_late = max(r["last_late_ns"] for r in reports)
        back_ns = event_ns + int(result["disturbance_s"] * 1e9)
        result["late_caught_up_s"] = max(0, last_late - back_ns) / 1e9 if last_late else 0.0
    print(
        f"  {result['deliveries_per_s']:.0f} deliveries/s, p99 {result['p99_ms']:.1f} ms, "
        f"lost {result['lost']}, duplicates {result['duplicates']}, "
        f"acked not stored {result['acked_not_stored']}",
        flush=True,
    )
    return result


def doc_window(
    label: str, scene: Scene, config: ClusterConfig, project_id: int, tokens: list[str]
) -> Result:
    """D documents x E editors, editors spread round-robin over the nodes (so each document's
    updates cross Redis when there are several); CPU of all nodes per delivered update."""
    editors, nodes = config.editors, scene.nodes
    print(f"{label}: {config.docs} docs x {editors} editors over {len(nodes)} node(s)", flush=True)
    names = [f"{label}-{d}" for d in range(config.docs)]
    seats = []
    for d, name in enumerate(names):
        for e in range(editors):
            place = d * editors + e
            node = nodes[(d if config.route == "room" else place) % len(nodes)]
            url = f"ws://{HOST}:{node.port}/yjs/{project_id}"
            address = Address(url, name, {"token": tokens[place % len(tokens)]})
            seats.append(address.seat(name, e, True, config.deflate))
    result: Result = {"phase": label, "nodes": len(nodes)}
    with Editors(config.editor_workers, scene.work_dir, label) as group:
        result["connected"], failures = connect(group, seats, config.editor_workers)
        if failures:
            print(f"  {len(seats) - result['connected']} editors failed: {failures[:3]}")
        t0, t1 = group.start_editing(config.warmup, config.duration, config.rate, config.drain)
        sleep_until(t0 * 1000, time.monotonic_ns)
        before = _backend_usage(scene)
        sleep_until(t1 * 1000, time.monotonic_ns)
        after = _backend_usage(scene)
        reports = group.gather(config.drain + 60)
        group.ask_all({"op": "close"}, timeout=60)
    sent_in_window: defaultdict[str, int] = defaultdict(int)
    for report in reports:
        for doc, sent in report["sentInWindow"].items():
            sent_in_window[doc] += sent
    sent = sum(sent_in_window.values())
    delivered = sum(r["delivered"] for r in reports)
    latencies = sorted(v for r in reports for v in r["latencies"])
    result.update(
        sent=sent,
        expected=sent * (editors - 1),
        delivered=delivered,
        missing=sent * (editors - 1) - delivered,
        deliveries_per_s=delivered / config.duration,
        p50_ms=percentile(latencies, 0.50) / 1000,
        p99_ms=percentile(latencies, 0.99) / 1000,
        drops=sum(r["drops"] for r in reports),
        errors=sum(r["errors"] for r in reports),
    )
    _costs(result, before, after, config.duration, delivered)
    print(
        f"  {result['deliveries_per_s']:.0f} deliveries/s, p99 {result['p99_ms']:.1f} ms, "
        f"missing {result['missing']}",
        flush=True,
    )
    return result
